// SPDX-License-Identifier: GPL-2.0
/*
 * tscrash_crash: the crashes of tscrash's sample cases, on demand. Writing a kind to /proc/tscrash_crash
 * crashes the kernel that way, in the writer's context:
 *
 *   oops        a NULL pointer dereference (BUG: kernel NULL pointer dereference; panics with oops=panic)
 *   bug         BUG() (kernel BUG at ...)
 *   gpf         a load from a non-canonical address (general protection fault)
 *   softlockup  spin with preemption off (watchdog: BUG: soft lockup; panics with softlockup_panic=1)
 *   hung        wait uninterruptibly on a completion nobody completes (INFO: task ... blocked; hung_task_panic=1)
 *
 * Each kind has its own function, so each crash has its own culprit frame.
 */
#include <linux/completion.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/proc_fs.h>
#include <linux/string.h>
#include <linux/uaccess.h>

/* Read through volatile objects, so the compiler cannot see the faults coming and turn them into traps. */
static int *volatile tscrash_null;
static unsigned long *volatile tscrash_noncanonical = (unsigned long *)0xdead000000000000UL;
static volatile int tscrash_sink;
static DECLARE_COMPLETION(tscrash_never);

static noinline void tscrash_null_deref(void)
{
	pr_emerg("tscrash_crash: dereferencing NULL\n");
	*tscrash_null = 1;
}

static noinline void tscrash_bug(void)
{
	pr_emerg("tscrash_crash: BUG()\n");
	BUG();
}

static noinline void tscrash_gpf(void)
{
	pr_emerg("tscrash_crash: loading from a non-canonical address\n");
	tscrash_sink = (int)*tscrash_noncanonical;
}

static noinline void tscrash_spin(void)
{
	pr_emerg("tscrash_crash: spinning with preemption off\n");
	preempt_disable();
	for (;;)
		cpu_relax();
}

static noinline void tscrash_hang(void)
{
	pr_emerg("tscrash_crash: waiting uninterruptibly for a completion that never comes\n");
	wait_for_completion(&tscrash_never);
	/* Not reached; and this call after the wait keeps it from being a tail call (this frame stays on the stack). */
	pr_emerg("tscrash_crash: completed\n");
}

static ssize_t tscrash_write(struct file *file, const char __user *buf, size_t len, loff_t *pos)
{
	char kind[16];
	size_t n = min(len, sizeof(kind) - 1);

	if (copy_from_user(kind, buf, n))
		return -EFAULT;
	kind[n] = '\0';
	strim(kind);
	if (!strcmp(kind, "oops"))
		tscrash_null_deref();
	else if (!strcmp(kind, "bug"))
		tscrash_bug();
	else if (!strcmp(kind, "gpf"))
		tscrash_gpf();
	else if (!strcmp(kind, "softlockup"))
		tscrash_spin();
	else if (!strcmp(kind, "hung"))
		tscrash_hang();
	else
		return -EINVAL;
	return len;
}

static const struct proc_ops tscrash_ops = {
	.proc_write = tscrash_write,
};

static struct proc_dir_entry *tscrash_entry;

static int __init tscrash_init(void)
{
	tscrash_entry = proc_create("tscrash_crash", 0200, NULL, &tscrash_ops);
	return tscrash_entry ? 0 : -ENOMEM;
}

static void __exit tscrash_exit(void)
{
	proc_remove(tscrash_entry);
}

module_init(tscrash_init);
module_exit(tscrash_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tscrash sample crashes on demand");
