/* The host "board": no instruction count or stack measure (the host build is the reference for outputs). */
#include "asc_board.h"

void asc_board_init(void) {}
uint64_t asc_board_instructions(void) { return 0; }
uint32_t asc_board_stack_bytes(void) { return 0; }
