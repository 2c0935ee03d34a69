/* QEMU mps2-an386 (Cortex-M4F): vector table and start (FPU on, .data copied, .bss zeroed, C++ constructors,
 * newlib's semihosting opened, then exit(main())), an instruction counter and the stack's high-water mark.
 *
 * The counter: SysTick on the processor clock. Under QEMU -icount shift=0 virtual time advances 1 ns per
 * instruction and the an386's 25 MHz clock ticks every 40 ns, so instructions = ticks * 40 (to 40
 * instructions). Newlib's own rdimon crt0 hangs on this board, hence this start. */
#include <stdint.h>
#include <stdlib.h>

#include "asc_board.h"

#define NS_PER_TICK 40u            /* 25 MHz SYSCLK */
#define STACK_WATCH_BYTES 65536u   /* painted below the initial stack pointer */
#define PAINT 0xA5A5A5A5u

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

static volatile uint32_t s_wraps;

void _init(void) {}
void _fini(void) {}

__attribute__((noinline)) static void paint_stack(void) {
  uint32_t *p = (uint32_t *)((uintptr_t)&_estack - STACK_WATCH_BYTES);
  uint32_t *here = (uint32_t *)__builtin_frame_address(0) - 64; /* leave this frame alone */
  while (p < here) *p++ = PAINT;
}

void Reset_Handler(void) {
  volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= 0xFu << 20; /* CP10 and CP11 full access: the FPU */
  __asm volatile("dsb\n isb");
  uint32_t *src = &_sidata, *dst = &_sdata;
  while (dst < &_edata) *dst++ = *src++;
  for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
  paint_stack();
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

void SysTick_Handler(void) { s_wraps = s_wraps + 1; }

static void Default_Handler(void) {
  for (;;) {
  }
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_estack, Reset_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler,
    SysTick_Handler};

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

void asc_board_init(void) {
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
  while (SYST_CVR == 0u) {
  } /* until the first reload: a cleared counter would read as a whole period elapsed */
  s_wraps = 0;
}

uint64_t asc_board_instructions(void) {
  uint32_t wraps, value;
  do { /* a wrap between the two reads: read again */
    wraps = s_wraps;
    value = SYST_CVR;
  } while (wraps != s_wraps);
  return ((uint64_t)wraps * 0x1000000u + (0xFFFFFFu - value)) * NS_PER_TICK;
}

uint32_t asc_board_stack_bytes(void) {
  const uint32_t *p = (const uint32_t *)((uintptr_t)&_estack - STACK_WATCH_BYTES);
  while (*p == PAINT) ++p;
  return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}
