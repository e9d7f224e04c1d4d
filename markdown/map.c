/* SPDX-License-Identifier: MIT */
/*
 * A string-keyed hash map in the render arena, for the few places where a
 * name must be found among many siblings (props of one element, keys of one
 * front matter map): a linear scan there makes hostile input quadratic.
 * Open addressing with linear probing, at most half full; a grown table's
 * old slots stay in the arena, which the doubling keeps linear.  The seed
 * comes from the map's address, so colliding keys cannot be precomputed
 * for a given build.
 */
#include "md_int.h"

#include <stdint.h>
#include <string.h>

struct slot {
    const char *key;
    size_t len;
    uint64_t hash;
    void *value;
};

struct md_map {
    md_arena *arena;
    struct slot *slots;
    size_t cap, used;
    uint64_t seed;
};

md_map *md_map_new(md_arena *a)
{
    md_map *m = md_alloc(a, sizeof *m);
    m->arena = a;
    m->cap = 16;
    m->slots = md_alloc(a, m->cap * sizeof *m->slots);
    m->seed = (uint64_t)(uintptr_t)m * 0x9E3779B97F4A7C15ull;
    return m;
}

static uint64_t hash(const md_map *m, const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ m->seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static struct slot *find(struct slot *slots, size_t cap, uint64_t h, const char *key, size_t len)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        struct slot *s = &slots[i];
        if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
            return s;
    }
}

static void grow(md_map *m)
{
    size_t cap = m->cap * 2;
    struct slot *slots = md_alloc(m->arena, cap * sizeof *slots);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *find(slots, cap, m->slots[i].hash, m->slots[i].key, m->slots[i].len) = m->slots[i];
    m->slots = slots;
    m->cap = cap;
}

void **md_map_slot(md_map *m, const char *key, size_t len)
{
    if (2 * (m->used + 1) > m->cap)
        grow(m);
    uint64_t h = hash(m, key, len);
    struct slot *s = find(m->slots, m->cap, h, key, len);
    if (!s->key) {
        s->key = md_strndup(m->arena, key, len);
        s->len = len;
        s->hash = h;
        m->used++;
    }
    return &s->value;
}

void *md_map_get(const md_map *m, const char *key, size_t len)
{
    const struct slot *s = find(m->slots, m->cap, hash(m, key, len), key, len);
    return s->key ? s->value : NULL;
}
