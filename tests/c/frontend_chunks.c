/* The generated frontend fed as a microphone driver would: 16-bit PCM from stdin pushed in blocks whose
 * sizes vary (1 sample, odd sizes, several windows at once), from a fixed pseudo-random sequence, so that
 * windows complete inside blocks, at their edges and across many of them. Prints each window's tensor as
 * one line; argv[1]: the hop in samples. Built (also under ASan/UBSan) by tests/test_c_frontend.py. */
#include <stdio.h>
#include <stdlib.h>

#include "asc_frontend.h"

static asc_input_t s_input[ASC_FRONTEND_INPUT_VALUES];

static size_t next_block(unsigned long *state) {
  static const size_t kSizes[] = {1, 2, 7, 160, 511, 512, 513, 4093};
  *state = *state * 1103515245ul + 12345ul;
  const size_t pick = (*state >> 16) % 9;
  return pick < 8 ? kSizes[pick] : 3 * ASC_FRONTEND_WINDOW_SAMPLES + 5; /* several windows in one push */
}

int main(int argc, char **argv) {
  size_t capacity = 1 << 16, count = 0, used = 0, i;
  unsigned long state = 1;
  int16_t *pcm = malloc(capacity * sizeof *pcm);
  unsigned char pair[2];
  if (argc != 2 || pcm == NULL) return 2;
  while (fread(pair, 1, 2, stdin) == 2) {
    if (count == capacity) {
      int16_t *grown = realloc(pcm, 2 * capacity * sizeof *pcm);
      if (grown == NULL) return free(pcm), 2;
      pcm = grown;
      capacity *= 2;
    }
    pcm[count++] = (int16_t)(uint16_t)(pair[0] | (pair[1] << 8));
  }
  if (asc_frontend_init((uint32_t)strtoul(argv[1], NULL, 10)) != ASC_FRONTEND_OK) return free(pcm), 3;
  while (used < count) {
    size_t block = next_block(&state), took = 0;
    if (block > count - used) block = count - used;
    const int status = asc_frontend_push(pcm + used, block, &took, s_input);
    if (status < 0) return free(pcm), 4;
    used += took;
    if (status == ASC_FRONTEND_READY) {
      for (i = 0; i < ASC_FRONTEND_INPUT_VALUES; ++i) printf(i ? " %d" : "%d", (int)s_input[i]);
      putchar('\n');
    }
  }
  free(pcm);
  return asc_frontend_finish() == ASC_FRONTEND_OK ? 0 : 5;
}
