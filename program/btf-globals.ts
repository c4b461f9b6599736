/**
 * The types of the globals BTF does not describe. A kernel's BTF has a VAR only for each per-cpu variable;
 * for any other global the address comes from kallsyms and its type from this table: what the kernel's
 * source declares, for the few variables the helpers read. Kept small; test/symbols/btf-globals.test.ts
 * checks every entry against the vmlinux's DWARF on the samples.
 *
 * An array's count is what the declaration's constant is, taken from what the dump has:
 *  - a number the source writes (`avenrun[3]`);
 *  - `enum:NAME`: an enumerator in BTF (`vm_zone_stat[NR_VM_ZONE_STAT_ITEMS]`);
 *  - `vmcoreinfo:NAME`: VMCOREINFO's LENGTH(NAME) (`node_data[MAX_NUMNODES]`);
 *  - `gap`: the distance to the next kallsyms symbol over the element's size, only where the element is
 *    larger than any padding the linker puts after it (pointers in a table the next symbol follows at once,
 *    structs of kilobytes);
 *  - `as:NAME`: the count of another entry declared with the same constant.
 * One spelling of each: where kernels spell a declaration with or without a typedef (node_data is
 * `pg_data_t *[]` in 6.1, `struct pglist_data *[]` in 6.12), `p` prints this one; the type is the same.
 * Not here: arrays whose constant is a macro the dump does not carry and whose end the next symbol does not
 * mark (task_state_array, taint_flags, pageflag_names): their helpers fall back to what they do without the
 * variable.
 */

export type CountSource = number | `enum:${string}` | `vmcoreinfo:${string}` | 'gap' | `as:${string}`;

export interface DeclaredGlobal {
  /** The C spelling of the type (of the element, for an array); or the members of an anonymous struct. */
  type: string | { anonymousStruct: string[] };
  /** For an array: where its count comes from. */
  count?: CountSource;
}

export const BTF_GLOBALS: Record<string, DeclaredGlobal> = {
  init_task: { type: 'struct task_struct' },
  init_uts_ns: { type: 'struct uts_namespace' },
  modules: { type: 'struct list_head' },
  slab_caches: { type: 'struct list_head' },
  panic_cpu: { type: 'atomic_t' },
  crashing_cpu: { type: 'int' },
  nr_cpu_ids: { type: 'unsigned int' },
  __per_cpu_offset: { type: 'long unsigned int', count: 'gap' },
  __cpu_online_mask: { type: 'struct cpumask' },
  __cpu_possible_mask: { type: 'struct cpumask' },
  __cpu_present_mask: { type: 'struct cpumask' },
  __cpu_active_mask: { type: 'struct cpumask' },
  jiffies: { type: 'volatile long unsigned int' },
  jiffies_64: { type: 'u64' },
  tick_nsec: { type: 'long unsigned int' },
  tk_core: { type: { anonymousStruct: ['seq', 'timekeeper'] } },
  avenrun: { type: 'long unsigned int', count: 3 },
  cpu_khz: { type: 'unsigned int' },
  prb: { type: 'struct printk_ringbuffer *' },
  tainted_mask: { type: 'long unsigned int' },
  sysctl_hung_task_timeout_secs: { type: 'long unsigned int' },
  arch_task_struct_size: { type: 'int' },
  // Memory (kmem -i, kmem -s).
  node_data: { type: 'pg_data_t *', count: 'vmcoreinfo:node_data' },
  node_states: { type: 'nodemask_t', count: 'enum:NR_NODE_STATES' },
  mem_section: { type: 'struct mem_section * *' },
  _totalram_pages: { type: 'atomic_long_t' },
  totalreserve_pages: { type: 'long unsigned int' },
  vm_zone_stat: { type: 'atomic_long_t', count: 'enum:NR_VM_ZONE_STAT_ITEMS' },
  vm_node_stat: { type: 'atomic_long_t', count: 'enum:NR_VM_NODE_STAT_ITEMS' },
  vm_committed_as: { type: 'struct percpu_counter' },
  sysctl_overcommit_memory: { type: 'int' },
  sysctl_overcommit_ratio: { type: 'int' },
  sysctl_overcommit_kbytes: { type: 'long unsigned int' },
  swapper_spaces: { type: 'struct address_space *', count: 'gap' },
  nr_swapper_spaces: { type: 'unsigned int', count: 'as:swapper_spaces' },
  swap_info: { type: 'struct swap_info_struct *', count: 'gap' },
  nr_swapfiles: { type: 'unsigned int' },
  hstates: { type: 'struct hstate', count: 'gap' },
  blockdev_superblock: { type: 'struct super_block *' },
  vmap_area_root: { type: 'struct rb_root' },
  vmap_area_list: { type: 'struct list_head' },
  vmlist: { type: 'struct vm_struct *' },
  // Interrupts.
  irq_desc_tree: { type: 'struct xarray' },
  nr_irqs: { type: 'int' },
  // Machine checks (mce): the genpool records.
  mce_event_llist: { type: 'struct llist_head' },
  mce_evt_pool: { type: 'struct gen_pool *' },
};
