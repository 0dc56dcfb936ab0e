// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kpanalyze sample: the x86 pieces of kprobes the analyzer reads: the
 * kretprobe blacklist, the entry-text range, and an override of a __weak
 * generic hook.
 */
#include <linux/kprobes.h>
#include <linux/init.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

extern char __entry_text_start[], __entry_text_end[];
extern void *module_alloc_sample(unsigned long size);

struct kretprobe_blackpoint kretprobe_blacklist[] = {
	{"__switch_to", }, /* switches the current task, not its stack */
	{0, 0}	/* Terminator */
};

const int kretprobe_blacklist_size = ARRAY_SIZE(kretprobe_blacklist);

static struct kprobe *sample_current_kprobe;

/* always inlined into the int3 handler */
static nokprobe_inline void set_sample_current_kprobe(struct kprobe *p)
{
	sample_current_kprobe = p;
}

int kprobe_int3_handler(struct pt_regs *regs)
{
	struct kprobe *p = get_kprobe((void *)regs);

	if (!p)
		return 0;
	set_sample_current_kprobe(p);
	return p->pre_handler ? p->pre_handler(p, regs) : 1;
}
NOKPROBE_SYMBOL(kprobe_int3_handler);

/* Overrides the __weak default in kernel/kprobes.c. */
void *alloc_insn_page(void)
{
	return module_alloc_sample(4096);
}

int __init arch_populate_kprobe_blacklist(void)
{
	return kprobe_add_area_blacklist((unsigned long)__entry_text_start,
					 (unsigned long)__entry_text_end);
}

/*
 * Instruction checks, in the order the sample applies them: the probe must start an
 * instruction, the copy must be something we can single-step, and a few opcodes are
 * refused or emulated instead of stepped.
 */
#include <asm/insn.h>
#include <asm/text-patching.h>

extern void *get_insn_slot(void);
extern int kallsyms_lookup_size_offset(unsigned long addr, unsigned long *size,
				       unsigned long *offset);
extern long copy_from_kernel_nofault(void *dst, const void *src, unsigned long size);

/* Walk from the symbol start; a probe in the middle of an instruction is refused. */
static int can_probe(unsigned long paddr)
{
	unsigned long addr, offset = 0;
	struct insn insn;

	if (!kallsyms_lookup_size_offset(paddr, NULL, &offset))
		return 0;
	for (addr = paddr - offset; addr < paddr; addr += insn.length) {
		if (insn_decode_kernel(&insn, (void *)addr) < 0)
			return 0;
	}
	return addr == paddr;
}

/* Returns the length copied, or 0 when the instruction cannot be stepped in a slot. */
int __copy_instruction(u8 *dest, u8 *src, u8 *real, struct insn *insn)
{
	if (copy_from_kernel_nofault(dest, src, MAX_INSN_SIZE))
		return 0;
	if (insn_decode_kernel(insn, dest) < 0)
		return 0;
	/* somebody else's breakpoint is already there */
	if (insn->opcode.bytes[0] == INT3_INSN_OPCODE)
		return 0;
	/* stepping it would swallow the trap */
	if (insn_masking_exception(insn))
		return 0;
	return insn->length;
}

static void sample_emulate_call(struct kprobe *p, struct pt_regs *regs)
{
}

static void sample_emulate_jcc(struct kprobe *p, struct pt_regs *regs)
{
}

static int prepare_emulation(struct kprobe *p, struct insn *insn)
{
	insn_byte_t op = insn->opcode.bytes[0];

	switch (op) {
	case 0xcf:	/* returning from an interrupt */
	case 0xea:	/* far jump with a segment */
		return -EOPNOTSUPP;
	case 0xe8:	/* call with a relative target */
		p->ainsn.emulate_op = sample_emulate_call;
		break;
	case 0x70 ... 0x7f:	/* short conditional branches */
		p->ainsn.emulate_op = sample_emulate_jcc;
		break;
	case 0xff:
		/* group 5: a call through memory cannot be replayed */
		if (X86_MODRM_REG(insn->modrm.bytes[0]) == 2 &&
		    X86_MODRM_MOD(insn->modrm.bytes[0]) != 3)
			return -EOPNOTSUPP;
		break;
	default:
		break;
	}
	return 0;
}

/* The slot holds the instruction followed by an int3. */
static int prepare_singlestep(u8 *buf, struct kprobe *p, struct insn *insn)
{
	int len = insn->length;

	if (len + INT3_INSN_SIZE > MAX_INSN_SIZE)
		return -ENOSPC;
	buf[len] = INT3_INSN_OPCODE;
	return len + INT3_INSN_SIZE;
}

static int arch_copy_kprobe(struct kprobe *p)
{
	struct insn insn;
	u8 buf[MAX_INSN_SIZE];
	int len, ret;

	len = __copy_instruction(buf, p->addr, p->ainsn.insn, &insn);
	if (!len)
		return -EINVAL;
	ret = prepare_emulation(p, &insn);
	if (ret < 0)
		return ret;
	len = prepare_singlestep(buf, p, &insn);
	if (len < 0)
		return len;
	return 0;
}

int arch_prepare_kprobe(struct kprobe *p)
{
	if (!can_probe((unsigned long)p->addr))
		return -EILSEQ;
	p->ainsn.insn = get_insn_slot();
	if (!p->ainsn.insn)
		return -ENOMEM;
	return arch_copy_kprobe(p);
}
