/* SPDX-License-Identifier: MIT */
/*
 * Content paths on the client side: the CONTRACT's rules ("Data model",
 * common/path.c), checked before anything is sent so that a bad file name
 * is reported by name instead of as a 400 in the middle of a push, and a
 * printable form of
 * any byte string for those reports.  Item identifiers (KIND, NAME) are
 * checked here too.
 */
#include "cli_int.h"

#include <string.h>

const char *cli_path_problem(const char *path, size_t n)
{
    /* A push reports the file by its name: "the name" for a problem in its
     * characters. */
    static const char *const why[] = {
        [CD_PATH_OK] = NULL,
        [CD_PATH_EMPTY] = "the path is empty",
        [CD_PATH_TOO_LONG] = "the path is longer than 1024 bytes",
        [CD_PATH_NOT_UTF8] = "the name is not valid UTF-8",
        [CD_PATH_ABSOLUTE] = "the path starts with '/'",
        [CD_PATH_BACKSLASH] = "the name holds a backslash",
        [CD_PATH_CONTROL] = "the name holds a control character",
        [CD_PATH_EMPTY_SEGMENT] = "the path has an empty segment",
        [CD_PATH_DOT_SEGMENT] = "the path has a '.' or '..' segment",
    };
    return why[cd_path_check(path, n)];
}

void cli_path_printable(cd_buf *b, const char *s)
{
    size_t n = strlen(s);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = cd_utf8_valid_len(u + i, n - i);
        if (k == 0 || cd_is_control(u + i, n - i)) {
            size_t m = k ? k : 1;
            for (size_t j = 0; j < m; j++)
                cd_buf_printf(b, "\\x%02x", u[i + j]);
            i += m;
            continue;
        }
        cd_buf_append(b, s + i, k);
        i += k;
    }
}

static const char *const kinds[] = {"tutorial", "challenge", "course", "skill-path", "roadmap"};

bool cli_kind_valid(const char *kind)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kind, kinds[i]))
            return true;
    return false;
}

bool cli_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
        if (!ok)
            return false;
    }
    return true;
}

int cli_parse_id(const char *id, char kind[16], char name[64], cd_err *err)
{
    const char *slash = strchr(id, '/');
    if (!slash || (size_t)(slash - id) >= 16) {
        return cd_err_set(err, CLI_USAGE, "'%s' is not KIND/NAME (e.g. tutorial/hello)", id);
    }
    memcpy(kind, id, (size_t)(slash - id));
    kind[slash - id] = '\0';
    if (!cli_kind_valid(kind))
        return cd_err_set(err, CLI_USAGE, "unknown kind '%s' (%s)", kind, CLI_KINDS_TEXT);
    if (!cli_name_valid(slash + 1))
        return cd_err_set(err, CLI_USAGE, "'%s' is not a valid name (%s)", slash + 1,
                          CLI_NAME_RULE);
    strcpy(name, slash + 1);
    return 0;
}
