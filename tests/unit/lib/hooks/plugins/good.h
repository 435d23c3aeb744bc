/*
 * good.h - what the good.so test plugin records about its calls, shared with
 * test_plugin.c, which reads it through dlsym(handle, "good_record").
 */
#ifndef VD_TEST_GOOD_H
#define VD_TEST_GOOD_H

#include <stdbool.h>
#include <stdint.h>

struct good_record {
	unsigned inits, finis;
	unsigned worker;        /* of the latest init */
	uint16_t queue;
	bool args_null;         /* the latest init got args == NULL */
	char rule_name[32], args[32];
	unsigned fini_worker;   /* worker of the state the latest fini freed */
	unsigned fini_evals;    /* and how many evals it saw */
};

/* good_eval's verdict: accept with this mark, so a test sees which state
 * the call got and how many calls that state has seen. */
#define GOOD_MARK(worker, evals) ((worker) * 1000u + (evals))

/* requeue_eval's verdict: queue to this queue, with bypass, setting this
 * mark bit alone (mask == value). */
#define GOOD_REQUEUE_TO 9
#define GOOD_REQUEUE_MARK 0x10u

#endif
