// SPDX-License-Identifier: GPL-2.0
/* Example kernel module for `kpanalyze scan`: kprobes registered with register_kprobe(). */
#include <linux/kprobes.h>
#include <linux/module.h>

static int pre(struct kprobe *p, struct pt_regs *regs) { return 0; }
static int ret(struct kretprobe_instance *ri, struct pt_regs *regs) { return 0; }

/* Fine from a module: only tracefs needs an ftrace site. */
static struct kprobe fmt_probe = {
	.symbol_name = "vsnprintf",
	.pre_handler = pre,
};

/* x86 refuses return probes on __switch_to (kretprobe_blacklist). */
static struct kretprobe switch_probe = {
	.kp.symbol_name = "__switch_to",
	.handler = ret,
};

/* __init text is gone once the kernel has booted. */
static struct kprobe boot_probe = {
	.symbol_name = "start_kernel",
	.pre_handler = pre,
};

static int __init probe_mod_init(void)
{
	register_kprobe(&fmt_probe);
	register_kretprobe(&switch_probe);
	return register_kprobe(&boot_probe);
}
module_init(probe_mod_init);
MODULE_LICENSE("GPL");
