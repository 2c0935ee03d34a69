/* What the firmware needs from its board: an instruction count and the stack's high-water mark. */
#ifndef ASC_MCU_BOARD_H_
#define ASC_MCU_BOARD_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void asc_board_init(void);
/* Instructions executed so far (QEMU -icount shift=0: one nanosecond of virtual time per instruction); 0 on
 * the host. A proxy for time: QEMU does not model the M4's pipeline, wait states or memory. */
uint64_t asc_board_instructions(void);
/* Deepest stack use so far, in bytes (0 where not measured). */
uint32_t asc_board_stack_bytes(void);

#ifdef __cplusplus
}
#endif

#endif /* ASC_MCU_BOARD_H_ */
