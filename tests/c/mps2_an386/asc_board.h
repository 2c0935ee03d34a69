/* What the worked example's main loop needs from a board: its microphone and its model call. */
#ifndef ASC_BOARD_H_
#define ASC_BOARD_H_

#include <stddef.h>
#include <stdint.h>

#include "asc_frontend.h"

/* Fill buffer with up to capacity 16-bit samples at ASC_FRONTEND_SAMPLE_RATE; 0 when the input ended. */
size_t mic_read(int16_t *buffer, size_t capacity);
/* Run the model on one input tensor; the index of the winning label. */
int classify(const asc_input_t *input);
/* The label's name. */
const char *label_name(int index);

#endif /* ASC_BOARD_H_ */
