/* The generated frontend's argument checks, built with -fsanitize=address,undefined by
 * tests/test_c_frontend.py: every bad call returns its error code, no undefined behaviour. */
#include <stdio.h>

#include "asc_frontend.h"

static asc_input_t s_input[ASC_FRONTEND_INPUT_VALUES];
static int16_t s_samples[ASC_FRONTEND_WINDOW_SAMPLES];

#define EXPECT(call, code)                                                     \
  do {                                                                         \
    int got_ = (call);                                                         \
    if (got_ != (code)) {                                                      \
      printf("FAIL %s returned %d, expected %d\n", #call, got_, (int)(code));  \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  size_t consumed = 99;
  EXPECT(asc_frontend_push(s_samples, 10, &consumed, s_input), ASC_FRONTEND_ERR_STATE);
  EXPECT(asc_frontend_finish(), ASC_FRONTEND_ERR_STATE);
  EXPECT(asc_frontend_init(0), ASC_FRONTEND_ERR_HOP);
  EXPECT(asc_frontend_init(ASC_FRONTEND_WINDOW_SAMPLES + ASC_FRONTEND_FRAME_HOP), ASC_FRONTEND_ERR_HOP);
  EXPECT(asc_frontend_init(ASC_FRONTEND_FRAME_HOP + 1), ASC_FRONTEND_ERR_HOP); /* off the frame grid */
  /* a one-frame hop keeps more windows in flight than the default ASC_FRONTEND_MAX_WINDOWS (2) */
  EXPECT(asc_frontend_init(ASC_FRONTEND_FRAME_HOP), ASC_FRONTEND_ERR_HOP);
  EXPECT(asc_frontend_push(s_samples, 10, &consumed, s_input), ASC_FRONTEND_ERR_STATE); /* init failed */
  EXPECT(asc_frontend_init(ASC_FRONTEND_DEFAULT_HOP), ASC_FRONTEND_OK);
  EXPECT(asc_frontend_push(NULL, 10, &consumed, s_input), ASC_FRONTEND_ERR_NULL);
  if (consumed != 0) return printf("FAIL consumed not reset\n"), 1;
  EXPECT(asc_frontend_push(s_samples, 10, NULL, s_input), ASC_FRONTEND_ERR_NULL);
  EXPECT(asc_frontend_push(s_samples, 10, &consumed, NULL), ASC_FRONTEND_ERR_NULL);
  EXPECT(asc_frontend_push(s_samples, 0, &consumed, s_input), ASC_FRONTEND_ERR_EMPTY);
  /* a stream that ends before its first window is complete */
  EXPECT(asc_frontend_push(s_samples, 100, &consumed, s_input), ASC_FRONTEND_OK);
  if (consumed != 100) return printf("FAIL consumed %zu\n", consumed), 1;
  EXPECT(asc_frontend_finish(), ASC_FRONTEND_ERR_SHORT);
  EXPECT(asc_frontend_push(s_samples, 1, &consumed, s_input), ASC_FRONTEND_ERR_STATE);
  EXPECT(asc_frontend_finish(), ASC_FRONTEND_ERR_STATE);
  /* one full window of silence in one push: a tensor, every sample taken; a push takes no sample past it */
  EXPECT(asc_frontend_init(ASC_FRONTEND_DEFAULT_HOP), ASC_FRONTEND_OK);
  EXPECT(asc_frontend_push(s_samples, 10, &consumed, s_input), ASC_FRONTEND_OK);
  EXPECT(asc_frontend_push(s_samples, ASC_FRONTEND_WINDOW_SAMPLES, &consumed, s_input), ASC_FRONTEND_READY);
  if (consumed != ASC_FRONTEND_WINDOW_SAMPLES - 10) return printf("FAIL consumed %zu\n", consumed), 1;
  EXPECT(asc_frontend_push(s_samples, 1, &consumed, s_input), ASC_FRONTEND_OK);
  EXPECT(asc_frontend_finish(), ASC_FRONTEND_OK);
  EXPECT(asc_frontend_push(s_samples, 1, &consumed, s_input), ASC_FRONTEND_ERR_STATE);
  printf("ok\n");
  return 0;
}
