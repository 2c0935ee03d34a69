/* The emulator's board: the microphone is a clip compiled into the binary (asc_clip.h, written by the test),
 * delivered in DMA-sized blocks; the model call prints the input tensor through semihosting, for the host
 * to compare with its own, since the model itself is checked by TFLite Micro on the host. */
#include <stdio.h>

#include "asc_board.h"
#include "asc_clip.h"

static size_t s_played;

size_t mic_read(int16_t *buffer, size_t capacity) {
  size_t n = ASC_CLIP_SAMPLES - s_played < capacity ? ASC_CLIP_SAMPLES - s_played : capacity;
  size_t i;
  for (i = 0; i < n; ++i) buffer[i] = kAscClip[s_played + i];
  s_played += n;
  return n;
}

int classify(const asc_input_t *input) {
  int i;
  printf("tensor");
  for (i = 0; i < ASC_FRONTEND_INPUT_VALUES; ++i) printf(" %d", (int)input[i]);
  printf("\n");
  return 0;
}

const char *label_name(int index) {
  (void)index;
  return "(the model runs on the host's TFLite Micro)";
}
