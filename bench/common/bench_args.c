/* SPDX-License-Identifier: MIT */
/* The command line of the benchmarks that time one folder (bench_args.h). */
#include "bench_args.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *prog, const char *why, const char *arg)
{
    fprintf(stderr, "%s: %s '%s'\nusage: %s DIR [--seconds S]\n", prog, why, arg, prog);
    return 2;
}

int bench_dir_args(const char *prog, int argc, char **argv, const char **dir, double *seconds)
{
    *dir = NULL;
    *seconds = BENCH_SECONDS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--seconds")) {
            if (i + 1 >= argc)
                return usage(prog, "missing the value of", a);
            char *end;
            const char *v = argv[++i];
            *seconds = strtod(v, &end);
            if (end == v || *end || !isfinite(*seconds) || *seconds <= 0)
                return usage(prog, "--seconds needs a number > 0, not", v);
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage(prog, "unknown option", a);
        } else if (*dir) {
            return usage(prog, "a second DIR", a);
        } else {
            *dir = a;
        }
    }
    if (!*dir) {
        fprintf(stderr, "usage: %s DIR [--seconds S]\n", prog);
        return 2;
    }
    return 0;
}
