/* SPDX-License-Identifier: MIT */
/*
 * The door of a store: every call of the catalog and of the blob store goes
 * through one function of catalog.c or blobstore.c, which times it into the
 * store's cd_door.  The shape is the same for both stores (a backend name,
 * operation names, a histogram each), so it is written once here, with the
 * writer of its /metrics series.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

void cd_door_init(cd_door *d, const char *backend, const char *const *op_names, unsigned n_ops)
{
    memset(d, 0, sizeof *d);
    d->backend = backend;
    d->op_names = op_names;
    d->n_ops = n_ops < CD_DOOR_OPS_MAX ? n_ops : CD_DOOR_OPS_MAX;
}

const char *cd_door_op_name(const cd_door *d, unsigned op)
{
    return op < d->n_ops ? d->op_names[op] : "unknown";
}

const cd_histo *cd_door_latency(const cd_door *d, unsigned op)
{
    return op < d->n_ops ? &d->latency[op] : NULL;
}

void cd_door_text(cd_buf *b, const char *metric, const char *help, const cd_door *d)
{
    cd_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", metric, help, metric);
    for (unsigned i = 0; i < d->n_ops; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "op=\"%s\"", d->op_names[i]);
        cd_histo_text(b, metric, labels, &d->latency[i]);
    }
}
