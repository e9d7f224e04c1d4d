/* SPDX-License-Identifier: MIT */
/*
 * The tasks of a challenge (or any item that declares them), the way
 * iximiuz Labs writes them, as a map or as a list:
 *
 *   tasks:                            tasks:
 *     init_cluster:                     - name: init_cluster
 *       init: true                        run: ...
 *       run: ...                        - name: verify_pod
 *     verify_pod:                         needs: [init_cluster]
 *       needs: [init_cluster]
 *       run: ...
 *
 * `needs` is a task name or a list of them.  A need that names no task,
 * and needs that go round in a cycle (no task of the cycle can ever
 * start), are errors.  The cycle search is an iterative depth-first walk:
 * front matter may declare a long chain of tasks.
 */
#include "checks_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct task {
    const char *name;
    json_t *needs; /* borrowed */
    size_t line;
    size_t *edges; /* indices of the tasks it needs */
    size_t nedges;
} task;

typedef struct tasks {
    task *v;
    size_t n;
    json_t *index; /* {name: position} */
} tasks;

/* The line declaring task name: `name:` (map) or `name: NAME` (list). */
static size_t task_line(chk_doc *d, size_t from, const char *name)
{
    size_t n = strlen(name);
    for (size_t line = from; line >= 1 && line <= d->fm_last; line++) {
        const char *s = d->src + d->line_start[line - 1];
        if (!chk_source_spend(d, n + 16))
            return from;
        while (*s == ' ' || *s == '\t' || *s == '-')
            s++;
        if (!strncmp(s, "name:", 5)) {
            for (s += 5; *s == ' ' || *s == '"' || *s == '\''; s++)
                ;
        }
        if (!strncmp(s, name, n) && strchr(":\"' \r\n", s[n]))
            return line;
    }
    size_t any = chk_source_word(d, from, d->fm_last, name);
    return any ? any : from;
}

static void add_task(chk_doc *d, tasks *t, const char *name, json_t *body, size_t line)
{
    /* tasks come in source order: each is declared after the one before */
    size_t from = t->n ? t->v[t->n - 1].line + 1 : line + 1;
    if (json_object_get(t->index, name)) {
        chk_add(d->f->local, d->path, task_line(d, from, name), CHK_ERROR, "tasks-invalid",
                "task '%s' is declared twice", name);
        return;
    }
    json_object_set_new(t->index, name, json_integer((json_int_t)t->n));
    task *k = &t->v[t->n++];
    memset(k, 0, sizeof *k);
    k->name = name;
    k->needs = json_object_get(body, "needs");
    k->line = task_line(d, from, name);
}

/* The tasks of the map or list form; false when tasks is neither. */
static bool gather(chk_doc *d, json_t *in, size_t line, tasks *t)
{
    size_t cap = json_is_object(in) ? json_object_size(in) : json_array_size(in);
    t->v = cd_xcalloc(cap ? cap : 1, sizeof *t->v);
    t->index = json_object();
    const char *key;
    json_t *v;
    if (json_is_object(in)) {
        json_object_foreach(in, key, v)
        {
            add_task(d, t, key, v, line);
        }
        return true;
    }
    if (!json_is_array(in))
        return false;
    size_t i;
    json_array_foreach(in, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        void *it = json_object_iter(v);
        json_t *inner = it ? json_object_iter_value(it) : NULL;
        if (!name && json_object_size(v) == 1 && (json_is_object(inner) || json_is_null(inner))) {
            name = json_object_iter_key(it); /* - task_name: {needs: ...} */
            v = inner;
        }
        if (name && *name)
            add_task(d, t, name, v, line);
        else
            chk_add(d->f->local, d->path, line, CHK_ERROR, "tasks-invalid", "task %zu has no name",
                    i + 1);
    }
    return true;
}

/* Resolves each task's needs to edges, reporting the unknown ones. */
static void link_needs(chk_doc *d, tasks *t)
{
    for (size_t i = 0; i < t->n; i++) {
        task *k = &t->v[i];
        json_t *one = json_is_string(k->needs) ? k->needs : NULL;
        size_t n = one ? 1 : json_array_size(k->needs);
        if (k->needs && !one && !json_is_array(k->needs) && !json_is_null(k->needs))
            chk_add(d->f->local, d->path, k->line, CHK_ERROR, "tasks-invalid",
                    "task '%s': needs must be a task name or a list of them", k->name);
        k->edges = cd_xcalloc(n ? n : 1, sizeof *k->edges);
        for (size_t j = 0; j < n; j++) {
            const char *need = json_string_value(one ? one : json_array_get(k->needs, j));
            json_t *at = need ? json_object_get(t->index, need) : NULL;
            if (at) {
                k->edges[k->nedges++] = (size_t)json_integer_value(at);
                continue;
            }
            size_t line = need ? chk_source_word(d, k->line + 1, d->fm_last, need) : 0;
            if (need)
                chk_add(d->f->local, d->path, line ? line : k->line, CHK_ERROR, "task-unknown-need",
                        "task '%s' needs '%s', but there is no task of that name", k->name, need);
            else
                chk_add(d->f->local, d->path, k->line, CHK_ERROR, "tasks-invalid",
                        "task '%s': each of its needs must be a task name", k->name);
        }
    }
}

/* Reports the cycle stack[from..top] closed by an edge back to stack[from]. */
static void report_cycle(chk_doc *d, tasks *t, const size_t *stack, size_t from, size_t top)
{
    cd_buf path = CD_BUF_INIT;
    for (size_t i = from; i <= top; i++) {
        if (i - from == 8 && top - i > 1) {
            cd_buf_printf(&path, "… → ");
            i = top;
        }
        cd_buf_printf(&path, "%s → ", t->v[stack[i]].name);
    }
    cd_buf_puts(&path, t->v[stack[from]].name);
    chk_add(d->f->local, d->path, t->v[stack[from]].line, CHK_ERROR, "task-cycle",
            "tasks need each other in a cycle (%s): none of them can ever start", path.data);
    cd_buf_free(&path);
}

static void find_cycles(chk_doc *d, tasks *t)
{
    unsigned char *color = cd_xcalloc(t->n ? t->n : 1, 1); /* 0 new, 1 on the stack, 2 done */
    size_t *stack = cd_xmalloc((t->n ? t->n : 1) * sizeof *stack);
    size_t *next = cd_xmalloc((t->n ? t->n : 1) * sizeof *next);
    for (size_t root = 0; root < t->n; root++) {
        if (color[root])
            continue;
        size_t top = 0;
        stack[0] = root, next[0] = 0, color[root] = 1;
        for (;;) {
            task *k = &t->v[stack[top]];
            if (next[top] == k->nedges) {
                color[stack[top]] = 2;
                if (top-- == 0)
                    break;
                continue;
            }
            size_t to = k->edges[next[top]++];
            if (color[to] == 1) {
                size_t from = top;
                while (stack[from] != to)
                    from--;
                report_cycle(d, t, stack, from, top);
            } else if (color[to] == 0) {
                color[to] = 1;
                stack[++top] = to, next[top] = 0;
            }
        }
    }
    free(color);
    free(stack);
    free(next);
}

void chk_tasks(chk_doc *d, json_t *in, size_t line)
{
    tasks t = {0};
    if (gather(d, in, line, &t)) {
        link_needs(d, &t);
        find_cycles(d, &t);
    } else if (!json_is_null(in)) {
        chk_add(d->f->local, d->path, line, CHK_ERROR, "tasks-invalid",
                "tasks must be a map of task names or a list of tasks");
    }
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i].edges);
    free(t.v);
    json_decref(t.index);
}
