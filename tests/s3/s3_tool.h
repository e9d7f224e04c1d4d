/* SPDX-License-Identifier: MIT */
/*
 * The two halves of the s3_tool test driver: s3_tool.c runs the s3/ client
 * commands, s3_tool_blob.c the blob store commands.
 */
#ifndef CONTENTD_S3_TOOL_H
#define CONTENTD_S3_TOOL_H

#include "blobstore.h"
#include "s3.h"

/* Runs a blob store command (blob-put, blob-get, blob-has, object-put,
 * object-get, manifests) on the S3 blob store that cfg names; returns 0, or
 * a negative blob_status with e filled. */
int blob_command(const s3_config *cfg, const char *cmd, int argc, char **argv, cd_err *e);

#endif
