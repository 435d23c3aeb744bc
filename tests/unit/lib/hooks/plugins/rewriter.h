/* rewriter.h - what the rewriter.so test plugin writes, shared with
 * test_plugin_rewrite.c. */
#ifndef VD_TEST_REWRITER_H
#define VD_TEST_REWRITER_H

#define REWRITER_TTL 7
#define REWRITER_BYTE 0x5a
#define REWRITER_PORT 4242

#endif
