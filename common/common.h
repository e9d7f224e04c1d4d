/* SPDX-License-Identifier: MIT */
/*
 * common — the few helpers every module of contentd shares: the allocator
 * wrappers (out of memory aborts here and nowhere else), a growable byte
 * buffer, JSON string escaping, UTF-8 repair and hex encoding (common.c),
 * the file-system loops every writer needs (fs.c) and the rules of a
 * content path (path.c).
 */
#ifndef CONTENTD_COMMON_H
#define CONTENTD_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CD_WUR __attribute__((warn_unused_result))
#define CD_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Allocation that never returns NULL: on exhaustion the process aborts with a
 * message.  Memory from these is released with free(). */
void *cd_xmalloc(size_t n);
void *cd_xcalloc(size_t n, size_t size);
void *cd_xrealloc(void *p, size_t n);
char *cd_xstrdup(const char *s);
char *cd_xstrndup(const char *s, size_t n);

/* A growable byte buffer, always NUL-terminated after the first append.
 * The buffer owns data; release it with cd_buf_free() or take it with
 * cd_buf_steal() (then the caller frees it with free()). */
typedef struct cd_buf {
    char *data;
    size_t len;
    size_t cap;
} cd_buf;

#define CD_BUF_INIT {NULL, 0, 0}

void cd_buf_grow(cd_buf *b, size_t extra);
void cd_buf_append(cd_buf *b, const void *p, size_t n);
void cd_buf_puts(cd_buf *b, const char *s);
void cd_buf_putc(cd_buf *b, char c);
void cd_buf_printf(cd_buf *b, const char *fmt, ...) CD_PRINTF(2, 3);
void cd_buf_vprintf(cd_buf *b, const char *fmt, va_list ap);
void cd_buf_reset(cd_buf *b);
void cd_buf_free(cd_buf *b);
/* Returns the NUL-terminated contents (never NULL) and leaves b empty;
 * the caller frees the result with free(). */
char *cd_buf_steal(cd_buf *b, size_t *len);

/* An error for the caller to show: a status code and one sentence. */
typedef struct cd_err {
    int code;
    char msg[512];
} cd_err;

/* Fills e (if not NULL) and returns code, so `return cd_err_set(...)`. */
int cd_err_set(cd_err *e, int code, const char *fmt, ...) CD_PRINTF(3, 4);

/* Writes the lower-case hex of the n bytes at d into out (2n+1 bytes, NUL
 * included): how digests are named everywhere. */
void cd_hex(const unsigned char *d, size_t n, char *out);

/* Appends s (n bytes of valid UTF-8) as a quoted JSON string. */
void cd_json_str(cd_buf *b, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0..n) does not
 * start with one. */
size_t cd_utf8_valid_len(const unsigned char *s, size_t n);
/* True when s[0..n) is valid UTF-8 with no NUL byte. */
bool cd_utf8_valid(const char *s, size_t n);
/* Appends s[0..n) to b with every invalid UTF-8 sequence and NUL byte
 * replaced by U+FFFD. */
void cd_utf8_repair(cd_buf *b, const char *s, size_t n);

/* True when p (left bytes remain) starts with a C0 or C1 control character
 * (UTF-8 encoded) or DEL. */
bool cd_is_control(const unsigned char *p, size_t left);

/* The longest content path, in bytes (CONTRACT "Data model"). */
#define CD_PATH_MAX 1024

/* The limits of one version, which the server enforces on a commit and
 * the client checks before it uploads anything: the number of files, and
 * the size of the commit's JSON body ({"base_version":N,"files":[…]},
 * compact).  100,000 files with paths of up to ~500 bytes fit; the body
 * limit is what bounds the memory one commit takes on the server. */
#define CD_VERSION_FILES_MAX 100000
#define CD_COMMIT_BODY_MAX   (64u << 20)

/* What makes a content path invalid: the first problem found, checked in
 * this order. */
typedef enum cd_path_problem {
    CD_PATH_OK = 0,
    CD_PATH_EMPTY,
    CD_PATH_TOO_LONG, /* more than CD_PATH_MAX bytes */
    CD_PATH_NOT_UTF8, /* or holds a NUL byte */
    CD_PATH_ABSOLUTE, /* starts with '/' */
    CD_PATH_BACKSLASH,
    CD_PATH_CONTROL, /* a C0 or C1 control character, or DEL */
    CD_PATH_EMPTY_SEGMENT,
    CD_PATH_DOT_SEGMENT, /* a "." or ".." segment */
} cd_path_problem;

/* Checks path[0..n) against the CONTRACT's rules for a content path:
 * relative, '/'-separated, valid UTF-8, at most CD_PATH_MAX bytes, no empty,
 * "." or ".." segment, no backslash and no control character. */
cd_path_problem cd_path_check(const char *path, size_t n);

/* True when the resolved path p is root or lies below it: root is root_len
 * bytes of a resolved folder path (realpath(), no trailing '/').  What
 * decides whether a symlink of a content folder may be followed. */
bool cd_path_inside(const char *p, const char *root, size_t root_len);

/* mkdir -p: creates dir and every missing folder on the way to it, each with
 * mode (less the umask); folders that exist already are fine.  Returns 0, or
 * -1 with errno set and, when failed_len is not NULL, the length of the
 * prefix of dir that could not be created in *failed_len.  An empty dir
 * fails with ENOENT. */
int cd_mkdir_p(const char *dir, mode_t mode, size_t *failed_len) CD_WUR;

/* Writes all n bytes at p to fd, going on after short writes and EINTR.
 * Returns 0, or -1 with errno set (some bytes may have been written). */
int cd_write_all(int fd, const void *p, size_t n) CD_WUR;

#endif
