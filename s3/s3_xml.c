/* SPDX-License-Identifier: MIT */
/*
 * The XML that S3 answers with, read by libxml2: error documents, listing
 * pages and the UploadId of a new multipart upload.  Parsing never touches
 * the network and substitutes no entity (no DTD is loaded), so a hostile
 * answer cannot make us fetch or expand anything.  Elements are matched by
 * local name, whatever namespace the server puts them in.
 */
#include "s3_int.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define PARSE_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static xmlDocPtr parse(const char *body, size_t n, const char *root_name, xmlNodePtr *root)
{
    if (n > INT32_MAX)
        return NULL;
    xmlDocPtr doc = xmlReadMemory(body, (int)n, "s3.xml", NULL, PARSE_OPTS);
    if (!doc)
        return NULL;
    *root = xmlDocGetRootElement(doc);
    if (!*root || strcmp((const char *)(*root)->name, root_name) != 0) {
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The text of element n; free() the result. */
static char *text(xmlNodePtr n)
{
    xmlChar *t = xmlNodeGetContent(n);
    char *s = cd_xstrdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

static void copy_text(xmlNodePtr n, char *out, size_t out_n)
{
    if (!out || !out_n)
        return;
    char *t = text(n);
    size_t l = strlen(t);
    if (l >= out_n) {
        l = out_n - 1;
        while (l && ((unsigned char)t[l] & 0xC0) == 0x80)
            l--; /* do not cut a UTF-8 sequence */
    }
    memcpy(out, t, l);
    out[l] = '\0';
    free(t);
}

bool s3_xml_error(const char *body, size_t n, char *code, size_t code_n, char *msg, size_t msg_n)
{
    xmlNodePtr root;
    xmlDocPtr doc = parse(body, n, "Error", &root);
    if (!doc)
        return false;
    if (code && code_n)
        code[0] = '\0';
    if (msg && msg_n)
        msg[0] = '\0';
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (is(c, "Code"))
            copy_text(c, code, code_n);
        else if (is(c, "Message"))
            copy_text(c, msg, msg_n);
    }
    xmlFreeDoc(doc);
    return true;
}

static void add_entry(s3_list_page *page, size_t *cap, xmlNodePtr contents)
{
    s3_list_entry e = {NULL, 0, NULL};
    for (xmlNodePtr c = contents->children; c; c = c->next) {
        if (is(c, "Key") && !e.key) {
            e.key = text(c);
        } else if (is(c, "Size")) {
            char *t = text(c);
            e.size = strtoull(t, NULL, 10);
            free(t);
        } else if (is(c, "ETag") && !e.etag) {
            e.etag = text(c);
        }
    }
    if (!e.key) {
        free((char *)e.etag);
        return;
    }
    if (!e.etag)
        e.etag = cd_xstrdup("");
    if (page->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        page->entries = cd_xrealloc(page->entries, *cap * sizeof *page->entries);
    }
    page->entries[page->n++] = e;
}

bool s3_xml_list(const char *body, size_t n, s3_list_page *page)
{
    memset(page, 0, sizeof *page);
    xmlNodePtr root;
    xmlDocPtr doc = parse(body, n, "ListBucketResult", &root);
    if (!doc)
        return false;
    size_t cap = 0;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (is(c, "Contents")) {
            add_entry(page, &cap, c);
        } else if (is(c, "IsTruncated")) {
            char *t = text(c);
            page->truncated = strcmp(t, "true") == 0;
            free(t);
        } else if (is(c, "NextContinuationToken") && !page->next_token) {
            page->next_token = text(c);
        }
    }
    xmlFreeDoc(doc);
    return true;
}

void s3_list_page_clear(s3_list_page *page)
{
    for (size_t i = 0; i < page->n; i++) {
        free((char *)page->entries[i].key);
        free((char *)page->entries[i].etag);
    }
    free(page->entries);
    free(page->next_token);
    memset(page, 0, sizeof *page);
}

char *s3_xml_upload_id(const char *body, size_t n)
{
    xmlNodePtr root;
    xmlDocPtr doc = parse(body, n, "InitiateMultipartUploadResult", &root);
    if (!doc)
        return NULL;
    char *id = NULL;
    for (xmlNodePtr c = root->children; c && !id; c = c->next)
        if (is(c, "UploadId"))
            id = text(c);
    xmlFreeDoc(doc);
    if (id && !*id) {
        free(id);
        id = NULL;
    }
    return id;
}
