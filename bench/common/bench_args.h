/* SPDX-License-Identifier: MIT */
/*
 * The command line of the in-process benchmarks that time one content
 * folder (bench_checks, bench_diff): `PROG DIR [--seconds S]`.  One parser,
 * so that each benchmark refuses a mistyped option the same way instead of
 * taking it for the folder.
 */
#ifndef CONTENTD_BENCH_ARGS_H
#define CONTENTD_BENCH_ARGS_H

#define BENCH_SECONDS_DEFAULT 2.0

/* Reads DIR (pointing into argv) and --seconds S (a number > 0; default
 * BENCH_SECONDS_DEFAULT) from argv.  Returns 0, or 2 (the exit status)
 * after printing why and "usage: PROG DIR [--seconds S]" on stderr: for an
 * unknown option, a missing or bad S, no DIR or a second one. */
int bench_dir_args(const char *prog, int argc, char **argv, const char **dir, double *seconds);

#endif
