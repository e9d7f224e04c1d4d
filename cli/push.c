/* SPDX-License-Identifier: MIT */
/*
 * One incremental push (`content push`, and each batch of `push --watch`):
 *
 *   scan and hash the folder → GET the item (POST it first if it does not
 *   exist: the caller becomes its owner) → POST blobs/missing → PUT only
 *   the missing blobs, in parallel → commit the whole file list against
 *   the version the push started from.
 *
 * Nothing is committed unless every blob was acknowledged, so an
 * interrupted push leaves the item at its previous version, and the blobs
 * that did arrive are not sent again by the next push (blobs/missing no
 * longer lists them).  A folder whose file list equals the server's is not
 * committed at all.  A 409 means someone else pushed first: without
 * --force that is the end; with it, the push re-reads the current version
 * and commits against it.  A 422 missing_blobs (a blob vanished from the
 * store between our check and the commit) uploads those and retries once.
 */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORCE_TRIES 5 /* --force re-bases at most this many times */

typedef struct push {
    cli_http *h;
    const cli_config *cfg;
    const cli_push_opts *o;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX], id[96]; /* id: "/api/v1/content/KIND/NAME" */
    char *title;
    folder_tree tree;
    json_t *item; /* the server's item with its files */
    int64_t base;
    bool created;      /* this push created the item */
    bool would_create; /* dry run: the item does not exist yet */
    bool assumed;      /* p->item is known's, not read from the server */
    json_t *known;     /* push --watch: the item as the previous push left it */
    char *owner;
    cli_push_diff diff;
    cli_blobset blobs; /* what the server lacks */
    json_t *checks;    /* the findings: the server's (commit answer), else ours */
    size_t sent_files;
    int64_t sent_bytes;
    int64_t version;     /* the version the push left the item at, when it got one */
    cli_push_times when; /* for push --watch's debug line */
    cd_err err;
} push;

static int fail(push *p, const char *fmt, ...) CD_PRINTF(2, 3);

/* Prints "content: push: <message>" and returns CLI_FAIL. */
static int fail(push *p, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("push: %s", msg);
    return CLI_FAIL;
}

/* The push stopped on p->err before committing: says so, with the version
 * the item stays at, and suggests pushing again only when that can
 * succeed as it is (the blobs that arrived are not sent again) and no
 * watch does it already. */
static int fail_stays(push *p)
{
    bool advice = p->err.code == CLI_ERR_TRANSIENT && !p->o->watch;
    cli_err_append(&p->err, "%s/%s stays at version %lld%s", p->kind, p->name, (long long)p->base,
                   advice ? " (push again to resume)" : "");
    return fail(p, "%s", p->err.msg);
}

/* One of kind/name: the front matter's, or the flag's, which must agree. */
static int pick(const char *what, const char *flag, const char *front, char *out, size_t cap)
{
    if (flag && front && strcmp(flag, front)) {
        cli_error("push: --%s %s disagrees with index.md, which says %s: %s", what, flag, what,
                  front);
        return CLI_USAGE;
    }
    const char *v = flag ? flag : front;
    if (!v) {
        cli_error("push: no %s: put `%s:` in index.md's front matter or give --%s", what, what,
                  what);
        return CLI_USAGE;
    }
    snprintf(out, cap, "%s", v);
    return 0;
}

/* Which item the folder is: kind and name from index.md, then the flags. */
static int identify(push *p)
{
    char *kind = NULL, *name = NULL;
    cd_buf index = CD_BUF_INIT;
    cd_buf_printf(&index, "%s/index.md", p->o->dir);
    /* The watch reads the front matter again only when it changed, or
     * when this push may create the item (which takes its title). */
    int rc = p->o->front && p->known
                 ? cli_front_matter_memo(index.data, p->o->front, &kind, &name, &p->title, &p->err)
                 : cli_front_matter(index.data, &kind, &name, &p->title, &p->err);
    cd_buf_free(&index);
    if (rc != 0)
        return fail(p, "%s", p->err.msg);
    rc = pick("kind", p->o->kind, kind, p->kind, sizeof p->kind);
    if (rc == 0)
        rc = pick("name", p->o->name, name, p->name, sizeof p->name);
    free(kind);
    free(name);
    if (rc != 0)
        return rc;
    if (!cd_kind_valid(p->kind)) {
        cli_error("push: unknown kind '%s' (%s)", p->kind, CD_KINDS_TEXT);
        return CLI_USAGE;
    }
    if (!cd_name_valid(p->name)) {
        cli_error("push: '%s' is not a valid name (%s)", p->name, CD_NAME_RULE);
        return CLI_USAGE;
    }
    snprintf(p->id, sizeof p->id, "/api/v1/content/%s/%s", p->kind, p->name);
    return 0;
}

static int scan(push *p)
{
    ignore_rules *ig = NULL;
    /* The watch keeps its last scan in memory; a single push reads the
     * hashes of the last one from the cache (hash_cache.c). */
    folder_tree saved = {0};
    const folder_tree *prev = p->o->cache;
    if (!prev) {
        cli_hash_cache_load(p->o->dir, &saved);
        prev = &saved;
    }
    int rc = ignore_load_folder(p->o->dir, &ig, &p->err);
    if (rc == 0)
        rc = cli_scan(p->o->dir, ig, prev, &p->tree, &p->err);
    ignore_free(ig);
    folder_tree_clear(&saved);
    if (rc == 0 && !p->o->cache)
        cli_hash_cache_save(p->o->dir, &p->tree);
    if (rc == 0)
        return 0;
    if (p->tree.nproblems <= 1)
        return fail(p, "%s", p->err.msg);
    /* Every file that cannot be pushed, one line each. */
    for (char *line = p->tree.problems.data; line && *line;) {
        char *nl = strchr(line, '\n');
        cli_error("push: %.*s", (int)(nl - line), line);
        line = nl + 1;
    }
    return fail(p, "%zu files cannot be pushed; nothing was sent", p->tree.nproblems);
}

/* GETs the item into p->item and p->base; 1 when it does not exist. */
static int fetch(push *p)
{
    cli_reply r = {0};
    int rc = cli_http_json(p->h, "GET", p->id, NULL, &r, &p->err);
    if (rc != 0) {
        rc = r.status == 404 ? 1 : -1;
    } else if (!json_is_integer(json_object_get(r.json, "version"))) {
        rc = cd_err_set(&p->err, -1, "the server's answer for %s/%s has no version", p->kind,
                        p->name);
    } else {
        json_decref(p->item);
        p->item = json_incref(r.json);
        p->base = json_integer_value(json_object_get(r.json, "version"));
    }
    cli_reply_clear(&r);
    return rc;
}

/* POSTs the item (the caller becomes its owner), then reads it back. */
static int create(push *p)
{
    json_t *body = json_pack("{s:s, s:s}", "kind", p->kind, "name", p->name);
    if (p->title)
        json_object_set_new(body, "title", json_string(p->title));
    cli_reply r = {0};
    int rc = cli_http_json(p->h, "POST", "/api/v1/content", body, &r, &p->err);
    json_decref(body);
    if (rc == 0) {
        p->created = true;
        const char *owner = json_string_value(json_object_get(r.json, "owner"));
        p->owner = cd_xstrdup(owner ? owner : "you");
        if (p->cfg->output == CLI_OUT_TEXT) { /* now: the push may yet be interrupted */
            printf("created %s/%s (owner %s)\n", p->kind, p->name, p->owner);
            fflush(stdout);
        }
    }
    bool raced = rc != 0 && r.status == 409; /* created by someone meanwhile */
    cli_reply_clear(&r);
    if (rc != 0 && !raced)
        return -1;
    rc = fetch(p);
    return rc == 1
               ? cd_err_set(&p->err, -1, "%s/%s exists but is not visible to you", p->kind, p->name)
               : rc;
}

/* The item as the server has it, created first if needed (not in a dry
 * run: then an absent item is an empty version 0). */
static int fetch_or_create(push *p)
{
    int rc = fetch(p);
    if (rc != 1)
        return rc;
    if (p->o->dry_run) {
        p->would_create = true;
        p->base = 0;
        return 0;
    }
    return create(p);
}

static json_t *server_files(push *p)
{
    json_t *files = json_object_get(p->item, "files");
    return json_is_array(files) ? files : NULL;
}

/* Uploads p->blobs; they are all acknowledged when this returns 0. */
static int upload(push *p)
{
    if (p->blobs.n == 0)
        return 0;
    int64_t sent = 0;
    unsigned parallel = p->o->parallel ? p->o->parallel : CLI_UPLOAD_PARALLEL;
    int rc = cli_upload(p->h, p->tree.files, p->blobs.idx, p->blobs.n, parallel, &sent, &p->err);
    p->sent_bytes += sent;
    if (rc == 0)
        p->sent_files += p->blobs.n;
    return rc;
}

static json_t *file_list(const folder_tree *t)
{
    json_t *files = json_array();
    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(files,
                              json_pack("{s:s, s:s, s:I}", "path", t->files[i].path, "sha256",
                                        t->files[i].sha256, "size", (json_int_t)t->files[i].size));
    return files;
}

/* The limits of one version (common.h), checked before anything is sent
 * (and by --dry-run): the server would refuse the commit only after every
 * blob had been uploaded. */
static int check_limits(push *p)
{
    if (p->tree.n > CD_VERSION_FILES_MAX)
        return fail(p, "the folder has %zu files; a version holds at most %d. Nothing was sent",
                    p->tree.n, CD_VERSION_FILES_MAX);
    /* The commit body as commit_once() sends it, with the largest base. */
    json_t *files = file_list(&p->tree);
    json_t *body = json_pack("{s:I, s:o}", "base_version", (json_int_t)INT64_MAX, "files", files);
    size_t size = json_dumpb(body, NULL, 0, JSON_COMPACT);
    json_decref(body);
    if (size <= CD_COMMIT_BODY_MAX)
        return 0;
    char have[32];
    return fail(p,
                "the folder's file list takes %s as a commit, more than the %u MiB one version "
                "can take (%zu files; shorter paths or fewer files fit). Nothing was sent",
                cli_human_bytes((double)size, have), CD_COMMIT_BODY_MAX >> 20, p->tree.n);
}

/* POST …/versions {base_version: p->base, files}; *version on success. */
static int commit_once(push *p, json_t *files, cli_reply *r, int64_t *version)
{
    char path[128];
    snprintf(path, sizeof path, "%s/versions", p->id);
    json_t *body = json_pack("{s:I, s:O}", "base_version", (json_int_t)p->base, "files", files);
    int rc = cli_http_json(p->h, "POST", path, body, r, &p->err);
    json_decref(body);
    json_t *v = json_object_get(r->json, "version");
    if (rc == 0 && !json_is_integer(v))
        return cd_err_set(&p->err, -1, "the server accepted the push but named no version");
    if (rc == 0)
        *version = json_integer_value(v);
    json_t *checks = json_object_get(r->json, "checks");
    if (rc == 0 && json_is_array(checks)) {
        json_decref(p->checks);
        p->checks = json_incref(checks);
    }
    return rc;
}

/* After a 409: re-reads the item; with --force, re-bases the push on the
 * current version (0), else reports the conflict (CLI_FAIL). */
static int rebase(push *p, int tries)
{
    int64_t started = p->base;
    if (fetch(p) != 0)
        return fail(p, "%s", p->err.msg);
    p->err.code = CLI_ERR_TRANSIENT; /* a new push starts from the new version */
    if (!p->o->force)
        return fail(p,
                    "someone else pushed %s/%s (now at version %lld) since this push started "
                    "from version %lld; pull it, or push again with --force to replace it",
                    p->kind, p->name, (long long)p->base, (long long)started);
    if (tries > FORCE_TRIES)
        return fail(p, "%s/%s keeps changing under this push; try again", p->kind, p->name);
    cli_push_diff_clear(&p->diff);
    cli_push_diff_compute(&p->tree, server_files(p), &p->diff);
    return 0;
}

/* A strict item refused the version (422 checks_failed): the findings
 * that made it refuse, on standard error, before the one-line error. */
static void print_refusal(const cli_reply *r)
{
    json_t *checks = json_object_get(json_object_get(r->json, "error"), "checks");
    cd_buf out = CD_BUF_INIT;
    chk_format_text(checks, &out);
    if (out.len)
        fwrite(out.data, 1, out.len, stderr);
    cd_buf_free(&out);
}

/* Commits the folder, handling 409 (--force) and 422 (missing blobs). */
static int commit(push *p, int64_t *version)
{
    json_t *files = file_list(&p->tree);
    cli_reply r = {0};
    int rc, tries = 0;
    bool reuploaded = false;
    for (;;) {
        if (cli_interrupted()) {
            cd_err_set(&p->err, CLI_ERR_TRANSIENT, "interrupted");
            rc = fail_stays(p);
            break;
        }
        if (commit_once(p, files, &r, version) == 0) {
            rc = CLI_OK;
            break;
        }
        if (r.status == 409 && p->assumed) { /* someone pushed since our last push */
            p->assumed = false;
            if (fetch(p) != 0) {
                rc = fail(p, "%s", p->err.msg);
                break;
            }
            cli_push_diff_clear(&p->diff);
            cli_push_diff_compute(&p->tree, server_files(p), &p->diff);
            if (cli_push_diff_empty(&p->diff)) {
                *version = p->base;
                rc = CLI_OK;
                break;
            }
        } else if (r.status == 409) {
            if ((rc = rebase(p, ++tries)) != 0)
                break;
            if (cli_push_diff_empty(&p->diff)) { /* the other push was ours, in effect */
                *version = p->base;
                break;
            }
        } else if (r.status == 422 && !strcmp(r.code, "missing_blobs") && !reuploaded) {
            reuploaded = true;
            cli_blobs_named(&p->tree, r.json, &p->blobs);
            if ((rc = upload(p)) != 0) {
                rc = fail_stays(p);
                break;
            }
        } else {
            if (r.status == 422 && !strcmp(r.code, "checks_failed"))
                print_refusal(&r);
            rc = fail(p, "%s", p->err.msg);
            break;
        }
    }
    cli_reply_clear(&r);
    json_decref(files);
    return rc;
}

/* An unchanged folder: the findings the server keeps for its current
 * version (what a commit of the same list would answer), instead of
 * checking every file here again.  Left NULL when there are none to
 * fetch or the server has none (then the local checks run). */
static void stored_checks(push *p)
{
    if (p->checks || p->base <= 0 || p->would_create)
        return;
    char path[160];
    snprintf(path, sizeof path, "%s/versions/%lld/checks", p->id, (long long)p->base);
    cli_reply r = {0};
    cd_err err;
    json_t *checks = NULL;
    if (cli_http_json(p->h, "GET", path, NULL, &r, &err) == 0)
        checks = json_object_get(r.json, "checks");
    if (json_is_array(checks))
        p->checks = json_incref(checks);
    cli_reply_clear(&r);
}

/* Our own findings on the folder, unless the server sent its own. */
static void local_checks(push *p)
{
    if (p->checks)
        return;
    cd_err err;
    if (cli_check_tree(&p->tree, p->kind, p->name, &p->o->checks, &p->checks, &err) != 0)
        cli_error("push: the checks could not run: %s", err.msg);
}

static void report(push *p, int64_t version, bool unchanged)
{
    local_checks(p);
    cli_push_result res = {
        .kind = p->kind,
        .name = p->name,
        .created = p->created,
        .would_create = p->would_create,
        .dry_run = p->o->dry_run,
        .unchanged = unchanged,
        .owner = p->owner,
        .base_version = p->base,
        .version = version,
        .upload_files = p->o->dry_run ? p->blobs.n : p->sent_files,
        .upload_bytes = p->o->dry_run ? p->blobs.bytes : p->sent_bytes,
        .diff = &p->diff,
        .checks = p->checks,
    };
    cli_push_report(p->cfg, &res);
}

/* push --watch: takes the item as the previous push committed it instead
 * of reading it back (one round trip less per save).  Should someone else
 * have pushed since, the commit answers 409 and commit() reads the item
 * then, as this push would have done first. */
static bool assume_known(push *p)
{
    cli_push_known *k = p->o->known;
    if (!k || !p->known || strcmp(k->kind, p->kind) || strcmp(k->name, p->name))
        return false;
    p->item = json_incref(p->known);
    p->base = json_integer_value(json_object_get(p->known, "version"));
    p->assumed = true;
    return true;
}

/* After a successful push: the item is at version with the folder's files. */
static void remember(push *p, int64_t version)
{
    cli_push_known *k = p->o->known;
    if (!k || p->o->dry_run)
        return;
    snprintf(k->kind, sizeof k->kind, "%s", p->kind);
    snprintf(k->name, sizeof k->name, "%s", p->name);
    k->item = json_pack("{s:I, s:o}", "version", (json_int_t)version, "files", file_list(&p->tree));
}

static int run(push *p)
{
    int rc = identify(p);
    if (rc == 0)
        rc = scan(p);
    p->when.hashed = cd_mono_ns();
    if (rc == 0)
        rc = check_limits(p);
    if (rc != 0)
        return rc;
    if (!assume_known(p) && fetch_or_create(p) != 0)
        return fail(p, "%s", p->err.msg);
    cli_push_diff_compute(&p->tree, server_files(p), &p->diff);
    if (cli_push_diff_empty(&p->diff)) {
        if (!p->o->quiet_unchanged || p->created) {
            stored_checks(p);
            report(p, p->base, true);
        }
        remember(p, p->base);
        p->version = p->base;
        return CLI_OK;
    }
    if (cli_blobs_missing(p->h, &p->tree, server_files(p), p->o->watch && !p->o->dry_run, &p->blobs,
                          &p->err) != 0)
        return fail(p, "%s", p->err.msg);
    if (p->o->dry_run) {
        report(p, p->base, false);
        return CLI_OK;
    }
    rc = upload(p);
    if (p->blobs.n)
        p->when.put = cd_mono_ns();
    if (rc != 0)
        return fail_stays(p);
    int64_t version = p->base;
    rc = commit(p, &version);
    p->when.posted = cd_mono_ns();
    if (rc == CLI_OK) {
        p->version = version;
        report(p, version, version == p->base);
        remember(p, version);
    }
    return rc;
}

int cli_push(cli_http *h, const cli_config *cfg, const cli_push_opts *o, bool *retry_helps)
{
    push p = {.h = h, .cfg = cfg, .o = o};
    if (o->known) { /* taken; given back only by a push that succeeds */
        p.known = o->known->item;
        o->known->item = NULL;
    }
    p.when.started = cd_mono_ns();
    int rc = run(&p);
    if (o->watch && cfg->debug)
        cli_push_trace(p.kind, p.name, rc, p.version, &p.tree, &p.diff, o->round, &p.when);
    /* A transfer or server failure leaves CLI_ERR_TRANSIENT in p.err (http.c,
     * upload.c, a 409); a refusal or a local problem (bad names, front
     * matter, limits) anything else. */
    if (retry_helps)
        *retry_helps = rc == CLI_FAIL && p.err.code == CLI_ERR_TRANSIENT;
    if (o->cache && p.tree.scanned_ns && !p.tree.nproblems) {
        folder_tree_clear(o->cache);
        *o->cache = p.tree; /* the next push reuses these hashes */
        memset(&p.tree, 0, sizeof p.tree);
    }
    free(p.title);
    free(p.owner);
    folder_tree_clear(&p.tree);
    json_decref(p.item);
    json_decref(p.known);
    json_decref(p.checks);
    cli_push_diff_clear(&p.diff);
    cli_blobset_clear(&p.blobs);
    return rc;
}
