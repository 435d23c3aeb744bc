/*
 * sanitizer.h - whether this build runs under a sanitizer: their runtimes
 * make system calls of their own (and TSan a thread of its own), which the
 * privilege drop and the seccomp filter have to allow for.
 */
#ifndef VD_SANITIZER_H
#define VD_SANITIZER_H

#ifndef __has_feature
#define __has_feature(x) 0
#endif

#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define VD_SANITIZER_THREAD 1
#else
#define VD_SANITIZER_THREAD 0
#endif

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer) || VD_SANITIZER_THREAD
#define VD_SANITIZER 1
#else
#define VD_SANITIZER 0
#endif

#endif
