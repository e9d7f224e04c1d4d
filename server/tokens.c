/* SPDX-License-Identifier: MIT */
/*
 * `contentd token list` and `contentd token revoke ID|USER`: what an
 * operator needs to see and withdraw API tokens.  A token is shown by its
 * id, the first 12 hex digits of the SHA-256 the catalog stores (the token
 * itself is never stored, so it cannot be shown).  A revoked token is
 * unknown to the catalog from then on, and the server looks every token
 * up on every request: it answers 401 at once.
 */
#include "srv_int.h"

#include <stdlib.h>
#include <string.h>

/* "  TIME" (padded to the column unless last), "-" when not known. */
static void print_time(FILE *out, int64_t ms, bool last)
{
    char t[32];
    if (ms > 0)
        cd_time_rfc3339(ms, t);
    else
        snprintf(t, sizeof t, "-");
    fprintf(out, last ? "  %s" : "  %-24s", t);
}

int srv_token_list(catalog *cat, FILE *out, cd_err *err)
{
    catalog_token *t = NULL;
    size_t n = 0;
    int rc = catalog_token_list(cat, &t, &n, err);
    if (rc != CAT_OK)
        return rc;
    size_t w = 4;
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].user) > w)
            w = strlen(t[i].user);
    fprintf(out, "%-*s  %-*s  %-24s  %s\n", SRV_TOKEN_ID_LEN, "ID", (int)w, "USER", "CREATED",
            "LAST USED");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%.*s  %-*s", SRV_TOKEN_ID_LEN, t[i].sha256, (int)w, t[i].user);
        print_time(out, t[i].created_at, false);
        print_time(out, t[i].last_used_at, true);
        fputc('\n', out);
    }
    catalog_tokens_free(t, n);
    return CAT_OK;
}

static bool is_token_id(const char *s)
{
    if (strlen(s) != SRV_TOKEN_ID_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int srv_token_revoke(catalog *cat, const char *id_or_user, FILE *out, cd_err *err)
{
    catalog_token *t = NULL;
    size_t n = 0;
    int rc = catalog_token_list(cat, &t, &n, err);
    if (rc != CAT_OK)
        return rc;
    /* An id names one token; failing that, the argument is a user. */
    bool by_id = false;
    for (size_t i = 0; i < n && !by_id; i++)
        by_id = is_token_id(id_or_user) && !strncmp(t[i].sha256, id_or_user, SRV_TOKEN_ID_LEN);
    size_t revoked = 0;
    for (size_t i = 0; i < n && rc == CAT_OK; i++) {
        bool match = by_id ? !strncmp(t[i].sha256, id_or_user, SRV_TOKEN_ID_LEN)
                           : !strcmp(t[i].user, id_or_user);
        if (!match)
            continue;
        rc = catalog_token_delete(cat, t[i].sha256, err);
        if (rc == CAT_NOT_FOUND) /* revoked meanwhile */
            rc = CAT_OK;
        else if (rc == CAT_OK)
            fprintf(out, "revoked token %.*s of user %s\n", SRV_TOKEN_ID_LEN, t[i].sha256,
                    t[i].user);
        revoked += rc == CAT_OK;
    }
    catalog_tokens_free(t, n);
    if (rc == CAT_OK && revoked == 0)
        rc = cd_err_set(err, CAT_NOT_FOUND, "no token has the id or the user '%s'", id_or_user);
    return rc;
}
