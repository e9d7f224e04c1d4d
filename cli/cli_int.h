/* SPDX-License-Identifier: MIT */
/*
 * The modules under the `content` commands: content paths and item names
 * (paths.c), folder scanning and hashing (scan.c; the ignore rules are the
 * shared module ignore/), HTTP on libcurl with the server's errors turned into one line
 * (http.c), parallel blob uploads (upload.c), the progress display
 * (progress.c), index.md front matter (frontmatter.c) and the push engine
 * that `push` and `push --watch` share (push.c, push_report.c), and the
 * checks on a folder that `check` and `push` share (check.c); each
 * command reads its command line with cli_args_parse() (cli_opts.c).
 */
#ifndef CONTENTD_CLI_INT_H
#define CONTENTD_CLI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>

#include "checks.h"
#include "cli.h"
#include "common.h"
#include "folder.h"
#include "ignore.h"

/* ---- paths.c: the CONTRACT's path rules, item identifiers ------------- */

/* Why path[0..n) is not a valid content path (a static sentence), or NULL. */
const char *cli_path_problem(const char *path, size_t n);
/* Splits "KIND/NAME" into kind and name, both checked; on failure returns
 * CLI_USAGE with err saying why. */
int cli_parse_id(const char *id, char kind[CD_KIND_MAX], char name[CD_NAME_MAX],
                 cd_err *err) CD_WUR;

/* ---- cli_opts.c: a command's command line --------------------------------- */

/* One option of a command: `NAME VALUE` or `NAME=VALUE` when value is set
 * (*value then points into argv), else a flag, NAME or its alias (NULL:
 * none), that sets *flag. */
typedef struct cli_opt {
    const char *name;
    const char *alias;
    const char **value;
    bool *flag;
} cli_opt;

#define CLI_WORDS_MAX 4 /* the most words a command takes */

/* What cli_args_parse() is told about a command, and what it fills in. */
typedef struct cli_args {
    const char *cmd;   /* names the command in messages: "comments" */
    const char *usage; /* the usage line, quoted in messages */
    const char *help;  /* what --help and -h print */
    int max_words;     /* at most CLI_WORDS_MAX */
    bool id;           /* the first word is the item, KIND/NAME: required, checked */
    /* Options no table can hold (a value to check): returns as cli_flag()
     * does; NULL: none. */
    int (*more)(void *more_arg, const char *cmd, int argc, char **argv, int *i);
    void *more_arg;
    /* Filled in: the words (pointing into argv), and the item when id. */
    const char *words[CLI_WORDS_MAX];
    int n_words;
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
} cli_args;

/* Parses argv[1..argc) for command a: the global options into cfg (NULL:
 * the command takes none), --help / -h, the options of opts (ended by
 * {NULL}; NULL: none) and the words.  Returns -1 to go on; else the exit
 * status, after printing the help (CLI_OK) or one line on what is wrong
 * (CLI_USAGE: an unknown option, a missing value, a word too many, a
 * missing or bad KIND/NAME). */
int cli_args_parse(cli_config *cfg, int argc, char **argv, const cli_opt *opts, cli_args *a) CD_WUR;

/* ---- the folder as a sorted file list (folder/folder.h) ----------------- */

/* folder_scan(), with a warning on stderr for each special file left out. */
int cli_scan(const char *dir, const ignore_rules *ig, const folder_tree *prev, folder_tree *t,
             cd_err *err) CD_WUR;

/* ---- http.c: requests to the server ------------------------------------ */

typedef struct cli_http cli_http;

/* A client of cfg->server with cfg->token.  Free with cli_http_free(). */
cli_http *cli_http_new(const cli_config *cfg);
void cli_http_free(cli_http *h);

/* An answer: the HTTP status (0 when none arrived), the JSON body if there
 * was one, and for errors the server's error code.  The reply owns json;
 * release it with cli_reply_clear(). */
typedef struct cli_reply {
    long status;
    json_t *json;
    char code[48];
} cli_reply;

void cli_reply_clear(cli_reply *r);

/* method path (relative to the server URL, already escaped) with an
 * optional JSON body (borrowed).  Returns 0 on a 2xx answer; otherwise -1
 * with err holding one line: the server's `message`, or why the server
 * could not be reached.  r is filled in both cases. */
int cli_http_json(cli_http *h, const char *method, const char *path, json_t *body, cli_reply *r,
                  cd_err *err) CD_WUR;

/* GET path, handing a 2xx body to sink as it arrives (a non-zero return
 * from sink aborts).  Errors as cli_http_json(). */
typedef int (*cli_sink)(void *arg, const void *p, size_t n);
int cli_http_download(cli_http *h, const char *path, cli_sink sink, void *arg, cli_reply *r,
                      cd_err *err) CD_WUR;

/* The server URL followed by path; the caller frees it with free(). */
char *cli_http_url(const cli_http *h, const char *path);
/* s with each '/'-separated segment percent-encoded; free with free(). */
char *cli_http_escape_path(const char *s);
/* A new easy handle with the common options (timeouts, user agent, auth
 * header, interruption) for `upload.c`; release with curl_easy_cleanup(). */
CURL *cli_http_easy(cli_http *h, char errbuf[CURL_ERROR_SIZE]);
/* Resets e for a blob upload: the common options, PUT, the blob headers. */
void cli_http_put_options(cli_http *h, CURL *e, char errbuf[CURL_ERROR_SIZE]);
/* cd_err.code of a failed request: whether running the same command again
 * can succeed (the connection was lost, the server was down, busy or
 * failed, the user interrupted) or cannot until something is changed (the
 * server refused the request itself: too large, not allowed, bad input). */
enum { CLI_ERR_FINAL = -1, CLI_ERR_TRANSIENT = -2 };

/* Appends "; <clause>" to err->msg, first dropping a sentence's final '.'
 * (a server's message), so that the two read as one sentence. */
void cli_err_append(cd_err *err, const char *fmt, ...) CD_PRINTF(2, 3);

/* Fills err with one sentence for a failed transfer and returns -1. */
int cli_http_curl_fail(const cli_http *h, CURL *e, CURLcode rc, const char *errbuf, cd_err *err);
/* Fills r and err from an error answer (status >= 300) and returns -1. */
int cli_http_status_fail(long status, const cd_buf *body, cli_reply *r, cd_err *err);
/* The server URL as the user gave it (for messages). */
const char *cli_http_server(const cli_http *h);

/* Ctrl-C: the first SIGINT sets a flag that every transfer checks, so the
 * command stops cleanly; a second one kills the process. */
void cli_interrupt_install(void);
bool cli_interrupted(void);
/* A descriptor that becomes readable on Ctrl-C (after install), or -1. */
int cli_interrupt_fd(void);

/* ---- progress.c ----------------------------------------------------------- */

typedef struct cli_progress cli_progress;

/* Progress of `verb` over files and bytes on stderr: a bar when stderr is
 * a terminal and the work lasts more than ~300 ms; plain lines every few
 * seconds otherwise, once it lasts a second.  Free with cli_progress_end(). */
cli_progress *cli_progress_new(const char *verb, size_t files, int64_t bytes);
void cli_progress_update(cli_progress *p, size_t files_done, int64_t bytes_done);
/* Clears the bar (if shown) and frees p. */
void cli_progress_end(cli_progress *p);
/* "1.5 MiB" style; returns buf. */
const char *cli_human_bytes(double bytes, char buf[32]);

/* ---- hash_cache.c: the hashes of the last push, between runs ------------- */

/* The saved scan of folder dir into out (empty when there is none or it
 * cannot be read); release it with folder_tree_clear().  Its hashes are
 * reused by folder_scan() only for files that have not changed. */
void cli_hash_cache_load(const char *dir, folder_tree *out);
/* Saves the scan t of folder dir for the next push; silently not when the
 * cache cannot be written.  CONTENT_HASH_CACHE=0 turns both off. */
void cli_hash_cache_save(const char *dir, const folder_tree *t);

/* ---- upload.c: parallel PUT /api/v1/blobs/SHA --------------------------- */

#define CLI_UPLOAD_PARALLEL     16
#define CLI_UPLOAD_PARALLEL_MAX 64

/* Uploads files[i] for every i in idx[0..n) (their blobs are missing on
 * the server), at most `parallel` at a time over reused connections.
 * Returns 0 when every blob was acknowledged; else -1 with err (the first
 * failure; the others are abandoned).  *sent counts acknowledged bytes. */
int cli_upload(cli_http *h, const folder_file *files, const size_t *idx, size_t n,
               unsigned parallel, int64_t *sent, cd_err *err) CD_WUR;

/* ---- push_blobs.c: which blobs a push sends ------------------------------ */

/* A set of blobs to upload: indices into a folder_tree's files, one per
 * distinct SHA-256, and their total size.  Release with cli_blobset_clear(). */
typedef struct cli_blobset {
    size_t *idx;
    size_t n;
    int64_t bytes;
} cli_blobset;

void cli_blobset_clear(cli_blobset *s);
/* The blobs of t that the server lacks (POST blobs/missing, batched), the
 * largest first; the blobs of current (the server's file list of its
 * current version, NULL: none) are not asked about.  With send_small, up
 * to a few small new ones are taken as lacking without asking (push
 * --watch). */
int cli_blobs_missing(cli_http *h, const folder_tree *t, const json_t *current, bool send_small,
                      cli_blobset *out, cd_err *err) CD_WUR;
/* The blobs of t that a 422 missing_blobs answer names (all of them when
 * the answer names none). */
void cli_blobs_named(const folder_tree *t, json_t *answer, cli_blobset *out);

/* ---- frontmatter.c: kind, name and title of index.md --------------------- */

/* Reads the front matter of the markdown file at path (via md_render's
 * `data`).  *kind, *name and *title are NULL when absent, else strings the
 * caller frees with free().  A missing file is not an error. */
int cli_front_matter(const char *path, char **kind, char **name, char **title, cd_err *err) CD_WUR;

/* ---- check.c: the checks (checks/) on a scanned folder -------------------- */

typedef struct cli_check_opts {
    const char *components_file; /* --components FILE; NULL: components not checked */
    int64_t max_file_size;       /* --max-file-size; 0: no limit */
    chk_cache *cache;            /* borrowed; NULL: none (push --watch keeps one) */
} cli_check_opts;

/* The defaults: no components list, CHK_DEFAULT_MAX_FILE_SIZE. */
void cli_check_opts_init(cli_check_opts *o);
/* If argv[*i] is --components or --max-file-size, applies it to opts (a
 * cli_check_opts) as cli_flag() does (1, 0, or CLI_USAGE after printing
 * why): a cli_args.more for the commands that run the checks. */
int cli_check_flag(void *opts, const char *cmd, int argc, char **argv, int *i);
/* Runs the checks on the folder t as item kind/name (either may be NULL).
 * Returns 0 with *findings a new array (json_decref() it), or -1 (err). */
int cli_check_tree(const folder_tree *t, const char *kind, const char *name,
                   const cli_check_opts *o, json_t **findings, cd_err *err) CD_WUR;
/* Prints findings (ours or a server's) to `to`, one line each:
 * `PATH:LINE: severity: message [code]`. */
void cli_check_print(const json_t *findings, FILE *to);
/* "N errors, M warnings" on stderr, when there is any finding. */
void cli_check_summary(const json_t *findings);

/* ---- push.c: one incremental push --------------------------------------- */

/* push --watch: the item as this process last committed it ({version,
 * files}), so that the next push need not read it back from the server.
 * Owned by the watch loop; cli_push() replaces item after each success and
 * drops it after any failure.  Free item with json_decref(). */
typedef struct cli_push_known {
    char kind[CD_KIND_MAX], name[CD_NAME_MAX];
    json_t *item;
} cli_push_known;

typedef struct cli_push_opts {
    const char *dir;  /* the content folder */
    const char *kind; /* from the flags, else NULL: from index.md */
    const char *name;
    bool dry_run;
    bool force;
    bool quiet_unchanged; /* print nothing when there is nothing to push */
    bool watch;           /* a batch of push --watch, which retries by itself */
    /* Watch mode: the previous scan, whose hashes are reused; replaced by
     * this push's scan.  NULL: hash every file. */
    folder_tree *cache;
    /* Watch mode: the item as the previous push left it, else NULL. */
    cli_push_known *known;
    /* Watch mode: the debounce windows (0: the watcher's defaults). */
    unsigned quiet_ms, max_delay_ms;
    /* The checks run on the folder and printed after the summary. */
    cli_check_opts checks;
    /* Blob uploads in flight at once (--parallel; 0: CLI_UPLOAD_PARALLEL). */
    unsigned parallel;
} cli_push_opts;

/* Scans dir, creates the item if it does not exist, uploads the missing
 * blobs and commits the folder as the new version; reports on stdout in
 * cfg->output.  Returns CLI_OK, CLI_FAIL or CLI_USAGE, having printed the
 * error; after CLI_FAIL, *retry_helps (if not NULL) says whether pushing
 * the same folder again can succeed (a lost connection, a server that was
 * down or busy) or cannot until a file changes (a refused upload, a bad
 * file name).  The same call serves each batch of `push --watch`. */
int cli_push(cli_http *h, const cli_config *cfg, const cli_push_opts *o, bool *retry_helps);

/* `push --watch`: pushes the folder, then again after each burst of saves
 * (watch/), until Ctrl-C.  A failed push (the server down) is reported and
 * retried until it succeeds.  Returns the exit status. */
int cli_push_watch(cli_http *h, const cli_config *cfg, const cli_push_opts *o);

/* What a push changed, for push_report.c. */
typedef struct cli_push_diff {
    const char **added, **modified, **removed; /* borrowed paths */
    size_t nadded, nmodified, nremoved;
} cli_push_diff;

/* The differences between the local tree and the server's file list
 * (json array of {path, sha256, size}).  Free with cli_push_diff_clear(). */
void cli_push_diff_compute(const folder_tree *t, json_t *server_files, cli_push_diff *d);
void cli_push_diff_clear(cli_push_diff *d);
bool cli_push_diff_empty(const cli_push_diff *d);

/* The outcome of a push, reported by cli_push_report(). */
typedef struct cli_push_result {
    const char *kind, *name;
    bool created;      /* this push created the item */
    bool would_create; /* a dry run of a push that would create it */
    bool dry_run, unchanged;
    const char *owner;    /* when created */
    int64_t base_version; /* the version the push started from */
    int64_t version;      /* the resulting (or, dry run, current) version */
    size_t upload_files;  /* blobs that were (or would be) uploaded */
    int64_t upload_bytes;
    const cli_push_diff *diff;
    /* The findings to show after the summary (the server's when its answer
     * carries them, else the local checks'); NULL: none were made. */
    const json_t *checks;
} cli_push_result;

void cli_push_report(const cli_config *cfg, const cli_push_result *res);

#endif
