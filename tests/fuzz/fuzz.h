/* SPDX-License-Identifier: MIT */
/* The entry point libFuzzer calls with each input (tests/fuzz/README.md). */
#ifndef CONTENTD_FUZZ_H
#define CONTENTD_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
