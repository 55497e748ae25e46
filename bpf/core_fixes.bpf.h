/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, each behind a CO-RE check, each naming the
 * kernel change that made it necessary.
 */
#ifndef RSTTRACE_CORE_FIXES_BPF_H
#define RSTTRACE_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* Before 6.13 ("fs: port files to file_ref"), struct file counted its
 * references in f_count, one reference being 1; since, in f_ref, one
 * reference being 0. */
struct file___pre_file_ref {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/* Whether a close() of this file drops its last reference: only then is the
 * socket behind it closed (fork and dup share one file). */
static __always_inline bool file_last_reference(struct file *f)
{
	if (bpf_core_field_exists(f->f_ref))
		return BPF_CORE_READ(f, f_ref.refcnt.counter) == 0;
	return BPF_CORE_READ((struct file___pre_file_ref *)f, f_count.counter) == 1;
}

#endif /* RSTTRACE_CORE_FIXES_BPF_H */
