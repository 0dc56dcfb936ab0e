// SPDX-License-Identifier: GPL-2.0-only
/*
 * kpanalyze sample: memory-init code. __meminit text survives boot only
 * with CONFIG_MEMORY_HOTPLUG; __init text never does.
 */
#include <linux/init.h>

struct page {
	unsigned long flags;
};

extern struct page *mem_map;

void __meminit memmap_init_range(unsigned long size, int nid,
				 unsigned long start_pfn)
{
	unsigned long pfn;

	for (pfn = start_pfn; pfn < start_pfn + size; pfn++)
		mem_map[pfn].flags = (unsigned long)nid;
}

void __init free_area_init(unsigned long *max_zone_pfn)
{
	memmap_init_range(max_zone_pfn[0], 0, 0);
}
