/* SPDX-License-Identifier: MIT */
/*
 * The change-stream watcher of the MongoDB catalog: one thread per process
 * following one change stream on `content` and `comments` (fullDocument: updateLookup,
 * projected down to the fields below), so that a change made by any
 * replica reaches this process's c->on_change — through the announcement
 * record of catalog_mongo_announce.c, which makes each version announced
 * exactly once and in order however it arrives.
 *
 * It lives in catalog/, not watch/, because it is the MongoDB backend's
 * half of on_change: it shares the backend's client pool, its document
 * shapes and the record with the local commit path, and the server starts
 * it through the catalog interface (catalog_watch_start) without knowing
 * which backend it runs on.
 *
 * Errors (after libmongoc's own single automatic resume):
 *  - resumable (network, server selection, CursorNotFound, the
 *    ResumableChangeStreamError label, or a code of the change-streams
 *    specification's legacy list): re-open from the latest resume token
 *    (an event's _id or a quiet batch's postBatchResumeToken) after a
 *    backoff of 50 ms doubling to 5 s;
 *  - ChangeStreamHistoryLost, an invalidate/drop event, or any other
 *    error: a resync — re-open the stream from now, *then* re-read the whole
 *    catalog and announce every difference from the record, so nothing
 *    that happened while the stream was blind is missed (what it replays
 *    twice, the record drops).
 */
#include "catalog_mongo_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 5000

/* The legacy resumable codes of the change-streams specification, and
 * CursorNotFound (43). */
static const int32_t resumable_codes[] = {6,   7,   43,   63,    89,    91,    133,   150,   189,
                                          234, 262, 9001, 10107, 11600, 11602, 13388, 13435, 13436};

mg_stream_error mg_classify_stream_error(const bson_error_t *e, const bson_t *reply)
{
    int64_t code = e->code;
    bool server = reply && !bson_empty(reply);
    if (server)
        code = mg_int64(reply, "code", code);
    if (code == 286 && (server || e->domain == MONGOC_ERROR_SERVER))
        return MG_STREAM_HISTORY_LOST;
    if (e->domain == MONGOC_ERROR_STREAM || e->domain == MONGOC_ERROR_SERVER_SELECTION)
        return MG_STREAM_RESUMABLE;
    if (server && mongoc_error_has_label(reply, "ResumableChangeStreamError"))
        return MG_STREAM_RESUMABLE;
    if (server || e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_QUERY)
        for (size_t i = 0; i < sizeof resumable_codes / sizeof resumable_codes[0]; i++)
            if (code == resumable_codes[i])
                return MG_STREAM_RESUMABLE;
    return MG_STREAM_FATAL;
}

/* Stats and sleeping -------------------------------------------------------- */

void mg_watch_stats(catalog *cat, catalog_watch_stats *out)
{
    mg_watch *w = &((mg_catalog *)cat)->watch;
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

#define STAT(w, expr)                                                                              \
    do {                                                                                           \
        pthread_mutex_lock(&(w)->mu);                                                              \
        (w)->stats.expr;                                                                           \
        pthread_mutex_unlock(&(w)->mu);                                                            \
    } while (0)

static bool stopping(mg_watch *w)
{
    pthread_mutex_lock(&w->stop_mu);
    bool stop = w->stop;
    pthread_mutex_unlock(&w->stop_mu);
    return stop;
}

/* Sleeps ms, or less if the watcher is told to stop. */
static void nap(mg_watch *w, int64_t ms)
{
    int64_t until = cd_mono_ms() + ms;
    pthread_mutex_lock(&w->stop_mu);
    while (!w->stop && cd_cond_wait_until(&w->stop_cv, &w->stop_mu, until))
        ;
    pthread_mutex_unlock(&w->stop_mu);
}

static void backoff(mg_watch *w)
{
    w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (w->backoff_ms > BACKOFF_MAX_MS)
        w->backoff_ms = BACKOFF_MAX_MS;
    nap(w, w->backoff_ms);
}

/* The stream ----------------------------------------------------------------- */

/* Only what the record needs travels: the key, the new version, meta and
 * commit time of an update, the whole state of an insert or replace.  The
 * stream is the database's, narrowed to `content` and `comments` (and
 * the events that end a stream). */
static bson_t *pipeline(void)
{
    return BCON_NEW(
        "pipeline", "[", "{", "$match", "{", "$or", "[", "{", "ns.coll", "{", "$in", "[",
        BCON_UTF8("content"), BCON_UTF8("comments"), "]", "}", "}", "{", "operationType", "{",
        "$in", "[", BCON_UTF8("dropDatabase"), BCON_UTF8("invalidate"), "]", "}", "}", "]", "}",
        "}", "{", "$project", "{", "_id", BCON_INT32(1), "operationType", BCON_INT32(1), "ns.coll",
        BCON_INT32(1), "documentKey", BCON_INT32(1), "fullDocument.inc", BCON_INT32(1),
        "fullDocument.version", BCON_INT32(1), "fullDocument.meta", BCON_INT32(1),
        "fullDocument.committed_at", BCON_INT32(1), "updateDescription.updatedFields.version",
        BCON_INT32(1), "updateDescription.updatedFields.meta", BCON_INT32(1),
        "updateDescription.updatedFields.committed_at", BCON_INT32(1), "}", "}", "]");
}

/* An event of the comments collection: a comment added or changed on any
 * replica, announced (under mu, like every announcement) as
 * CAT_EV_COMMENT.  True when ev was one. */
static bool comment_event(mg_catalog *c, const bson_t *ev)
{
    char *coll = mg_strdup(ev, "ns.coll");
    bool is_comment = !strcmp(coll, "comments");
    free(coll);
    if (!is_comment)
        return false;
    char *op = mg_strdup(ev, "operationType"), *key = mg_strdup(ev, "documentKey._id");
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    int64_t id = 0;
    if ((!strcmp(op, "insert") || !strcmp(op, "update") || !strcmp(op, "replace")) &&
        mg_comment_event_key(key, kind, name, &id)) {
        pthread_mutex_lock(&c->watch.mu);
        catalog_emit(&c->base, CAT_EV_COMMENT, kind, name, id);
        pthread_mutex_unlock(&c->watch.mu);
    }
    free(op);
    free(key);
    return true;
}

static void keep_token(mg_watch *w)
{
    const bson_t *t = mongoc_change_stream_get_resume_token(w->stream);
    if (!t || (w->token && bson_equal(t, w->token)))
        return;
    if (w->token)
        bson_destroy(w->token);
    w->token = bson_copy(t);
}

/* Opens the stream after w->token (NULL: from now). */
static void open_stream(mg_catalog *c)
{
    mg_watch *w = &c->watch;
    bson_t *pipe = pipeline();
    bson_t *opts = BCON_NEW("fullDocument", BCON_UTF8("updateLookup"), "maxAwaitTimeMS",
                            BCON_INT64(MG_AWAIT_MS));
    if (w->token)
        BSON_APPEND_DOCUMENT(opts, "resumeAfter", w->token);
    mongoc_database_t *db = mongoc_client_get_database(w->client, c->db);
    w->stream = mongoc_database_watch(db, pipe, opts);
    mongoc_database_destroy(db);
    bson_destroy(pipe);
    bson_destroy(opts);
}

/* If the stream has failed: logs, closes it and says how to go on. */
static bool stream_failed(mg_catalog *c, mg_stream_error *how, bson_error_t *e)
{
    mg_watch *w = &c->watch;
    const bson_t *reply = NULL;
    if (!mongoc_change_stream_error_document(w->stream, e, &reply))
        return false;
    *how = mg_classify_stream_error(e, reply);
    static const char *const names[] = {"resumable", "history_lost", "fatal"};
    char q[512];
    mg_log(*how == MG_STREAM_RESUMABLE ? "info" : "warn",
           "event=change_stream_error class=%s domain=%u code=%u err=\"%s\"", names[*how],
           e->domain, e->code, mg_quote(e->message, q, sizeof q));
    keep_token(w);
    mongoc_change_stream_destroy(w->stream);
    w->stream = NULL;
    pthread_mutex_lock(&w->mu);
    w->stats.errors++;
    w->stats.connected = false;
    pthread_mutex_unlock(&w->mu);
    return true;
}

/* Reads every item's state and hands it to the record (announcing the
 * differences when `announce`). */
static int scan(mg_catalog *c, bool announce, bson_error_t *e)
{
    mg_watch *w = &c->watch;
    bson_t filter = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("projection", "{", "inc", BCON_INT32(1), "version", BCON_INT32(1),
                            "meta", BCON_INT32(1), "committed_at", BCON_INT32(1), "}");
    mongoc_collection_t *col = mg_coll(c, w->client, "content");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, &filter, opts, NULL);
    mg_change *items = NULL;
    size_t n = 0, cap = 0;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        items = cd_grow(items, n, &cap, 64, sizeof *items);
        mg_change *ch = &items[n++];
        memset(ch, 0, sizeof *ch);
        char *key = mg_strdup(doc, "_id");
        snprintf(ch->key, sizeof ch->key, "%s", key);
        free(key);
        ch->has_inc = mg_oid(doc, "inc", &ch->inc);
        ch->has_version = ch->has_meta = true;
        ch->version = mg_int64(doc, "version", 0);
        ch->meta = mg_int64(doc, "meta", 0);
        ch->committed_at = mg_date(doc, "committed_at", 0);
    }
    int rc = mongoc_cursor_error(cur, e) ? -1 : 0;
    if (rc == 0)
        mg_apply_scan(c, items, n, announce);
    free(items);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(col);
    bson_destroy(opts);
    return rc;
}

/* A change event as the record sees it; false for an event that ends the
 * stream's usefulness (drop, rename, invalidate ...): resync. */
static bool parse_event(const bson_t *ev, mg_change *ch)
{
    memset(ch, 0, sizeof *ch);
    char *op = mg_strdup(ev, "operationType"), *key = mg_strdup(ev, "documentKey._id");
    snprintf(ch->key, sizeof ch->key, "%s", key);
    bool known = true;
    if (!strcmp(op, "insert") || !strcmp(op, "replace")) {
        ch->op = !strcmp(op, "insert") ? MG_CH_INSERT : MG_CH_REPLACE;
        ch->has_version = ch->has_meta = true;
        ch->version = mg_int64(ev, "fullDocument.version", 0);
        ch->meta = mg_int64(ev, "fullDocument.meta", 0);
        ch->committed_at = mg_date(ev, "fullDocument.committed_at", 0);
    } else if (!strcmp(op, "update")) {
        ch->op = MG_CH_UPDATE;
        ch->version = mg_int64(ev, "updateDescription.updatedFields.version", INT64_MIN);
        ch->meta = mg_int64(ev, "updateDescription.updatedFields.meta", INT64_MIN);
        ch->has_version = ch->version != INT64_MIN;
        ch->has_meta = ch->meta != INT64_MIN;
        ch->committed_at = mg_date(ev, "updateDescription.updatedFields.committed_at", 0);
    } else if (!strcmp(op, "delete")) {
        ch->op = MG_CH_DELETE;
    } else {
        known = false;
    }
    ch->has_inc = mg_oid(ev, "fullDocument.inc", &ch->inc);
    free(op);
    free(key);
    return known;
}

/* Re-opens the stream after an error or for a resync; false (after a
 * backoff) when it could not. */
static bool reopen(mg_catalog *c, bool *resync)
{
    mg_watch *w = &c->watch;
    if (*resync && w->token) {
        bson_destroy(w->token);
        w->token = NULL;
    }
    open_stream(c);
    mg_stream_error how;
    bson_error_t e;
    if (stream_failed(c, &how, &e)) {
        if (how != MG_STREAM_RESUMABLE)
            *resync = true; /* e.g. the token's history is gone */
        backoff(w);
        return false;
    }
    keep_token(w);
    STAT(w, connected = true);
    if (*resync && scan(c, true, &e) != 0) {
        char q[512];
        mg_log("warn", "event=resync_failed err=\"%s\"", mg_quote(e.message, q, sizeof q));
        mongoc_change_stream_destroy(w->stream);
        w->stream = NULL;
        STAT(w, connected = false);
        backoff(w);
        return false;
    }
    pthread_mutex_lock(&w->mu);
    if (*resync)
        w->stats.resyncs++;
    else
        w->stats.resumes++;
    pthread_mutex_unlock(&w->mu);
    if (*resync)
        mg_log("info", "event=resync");
    *resync = false;
    return true;
}

static void *watch_main(void *arg)
{
    mg_catalog *c = arg;
    mg_watch *w = &c->watch;
    bool resync = false;
    while (!stopping(w)) {
        if (!w->stream && !reopen(c, &resync))
            continue;
        const bson_t *ev;
        mg_stream_error how;
        bson_error_t e;
        if (mongoc_change_stream_next(w->stream, &ev)) {
            if (comment_event(c, ev)) {
                keep_token(w);
                w->backoff_ms = 0;
                continue;
            }
            mg_change ch;
            bool ok = parse_event(ev, &ch);
            keep_token(w);
            w->backoff_ms = 0;
            if (ok) {
                mg_apply_change(c, &ch);
                continue;
            }
            /* invalidate, drop, rename ...: the stream is of no more use. */
            mongoc_change_stream_destroy(w->stream);
            w->stream = NULL;
            STAT(w, connected = false);
            resync = true;
        } else if (stream_failed(c, &how, &e)) {
            resync = how != MG_STREAM_RESUMABLE;
            backoff(w);
        } else {
            keep_token(w); /* a quiet batch's postBatchResumeToken */
            w->backoff_ms = 0;
        }
    }
    if (w->stream)
        mongoc_change_stream_destroy(w->stream);
    w->stream = NULL;
    return NULL;
}

/* Starting and stopping ------------------------------------------------------- */

catalog_status mg_watch_start(catalog *cat, cd_err *err)
{
    mg_catalog *c = (mg_catalog *)cat;
    mg_watch *w = &c->watch;
    if (w->started)
        return cd_err_set(err, CAT_ERROR, "catalog: the change-stream watcher runs already");
    /* Active first: local writes from now on go through the record, which
     * the stream (opened next) and the baseline scan fill. */
    pthread_mutex_lock(&w->mu);
    w->active = true;
    pthread_mutex_unlock(&w->mu);
    w->client = mg_pop(c);
    open_stream(c);
    mg_stream_error how;
    bson_error_t e;
    int rc = CAT_OK;
    if (stream_failed(c, &how, &e)) {
        rc = cd_err_set(err, mg_unavailable(&e) ? CAT_UNAVAILABLE : CAT_ERROR,
                        "catalog: cannot open a change stream on %s.content at %s: %s", c->db,
                        c->where, e.message);
    } else {
        keep_token(w);
        if (scan(c, false, &e) != 0)
            rc = mg_fail(&e, err, "cannot read the catalog");
    }
    if (rc == CAT_OK && pthread_create(&w->thread, NULL, watch_main, c) != 0)
        rc = cd_err_set(err, CAT_ERROR, "catalog: cannot start the change-stream thread");
    if (rc != CAT_OK) {
        if (w->stream)
            mongoc_change_stream_destroy(w->stream);
        w->stream = NULL;
        mg_push(c, w->client);
        w->client = NULL;
        pthread_mutex_lock(&w->mu);
        w->active = false;
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    w->started = true;
    pthread_mutex_lock(&w->mu);
    w->stats.running = w->stats.connected = true;
    pthread_mutex_unlock(&w->mu);
    return CAT_OK;
}

void mg_watch_stop(mg_catalog *c)
{
    mg_watch *w = &c->watch;
    if (!w->started)
        return;
    pthread_mutex_lock(&w->stop_mu);
    w->stop = true;
    pthread_cond_broadcast(&w->stop_cv);
    pthread_mutex_unlock(&w->stop_mu);
    pthread_join(w->thread, NULL);
    w->started = false;
    w->stop = false; /* (only this thread reads it now) */
    mg_push(c, w->client);
    w->client = NULL;
    pthread_mutex_lock(&w->mu);
    w->active = false;
    w->stats.running = w->stats.connected = false;
    pthread_mutex_unlock(&w->mu);
}

void mg_watch_stop_op(catalog *cat)
{
    mg_watch_stop((mg_catalog *)cat);
}
