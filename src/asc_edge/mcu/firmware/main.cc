// The firmware asc_edge.mcu builds: a clip (asc_clip.h, the board's "microphone") pushed through the generated
// C frontend in microphone-sized blocks; every window's tensor is written straight into the interpreter's
// input, TFLite Micro runs the exported model, and one line per window gives the label, the int8 outputs and
// the instructions the frontend and the model took (asc_board_instructions: QEMU -icount on the Cortex-M4F,
// 0 on the host). The same file runs on the host with TFLM's reference kernels, to compare with.
#include <cstdint>
#include <cstdio>

#include "asc_board.h"
#include "asc_clip.h"
#include "asc_frontend.h"
#include "model_int8.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

#ifndef ASC_ARENA_BYTES
#define ASC_ARENA_BYTES (kAscEdgeArenaMeasuredBytes + 16384)  // the x86-64 figure + room; the real use is printed
#endif
#define MIC_BLOCK 256  // samples per microphone (DMA) buffer

alignas(16) static uint8_t g_arena[ASC_ARENA_BYTES];

static int arg_max(const TfLiteTensor* output, int count) {
  int best = 0;
  for (int i = 1; i < count; ++i)
    if (output->data.int8[i] > output->data.int8[best]) best = i;
  return best;
}

// Before Invoke: the arena planner may reuse the input tensor's bytes for later activations.
static void print_input(int window, const TfLiteTensor* input) {
#ifdef ASC_PRINT_INPUT
  printf("input %d", window);
  for (int i = 0; i < ASC_FRONTEND_INPUT_VALUES; ++i) printf(" %d", static_cast<int>(input->data.int8[i]));
  printf("\n");
#else
  (void)window;
  (void)input;
#endif
}

static void print_window(int window, const TfLiteTensor* output, int classes, uint64_t frontend,
                         uint64_t invoke) {
  const int label = arg_max(output, classes);
  printf("window %d label %d %s outputs", window, label, kAscEdgeLabels[label]);
  for (int i = 0; i < classes; ++i) printf(" %d", static_cast<int>(output->data.int8[i]));
  printf(" frontend_instructions %llu invoke_instructions %llu\n", static_cast<unsigned long long>(frontend),
         static_cast<unsigned long long>(invoke));
}

int main() {
  asc_board_init();
  const tflite::Model* model = tflite::GetModel(g_asc_edge_model);
  // Locals, not statics: a static with a destructor needs __cxa_atexit and __dso_handle, which a bare-metal
  // start (-nostartfiles) does not provide; main never returns before they are done with.
  tflite::MicroMutableOpResolver<kAscEdgeOpCount> resolver;
  if (asc_edge_register_ops(resolver) != kTfLiteOk) return printf("error: op resolver\n"), 3;
  tflite::MicroInterpreter interpreter(model, resolver, g_arena, sizeof(g_arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) return printf("error: AllocateTensors\n"), 3;
  TfLiteTensor* input = interpreter.input(0);
  const TfLiteTensor* output = interpreter.output(0);
  if (input->type != kTfLiteInt8 || input->bytes != ASC_FRONTEND_INPUT_VALUES || output->type != kTfLiteInt8)
    return printf("error: the model's input or output is not the frontend's int8 tensor\n"), 3;
  const int classes = static_cast<int>(output->bytes);
  printf("arena_used_bytes %u arena_bytes %u\n", static_cast<unsigned>(interpreter.arena_used_bytes()),
         static_cast<unsigned>(sizeof(g_arena)));
  if (asc_frontend_init(ASC_FRONTEND_DEFAULT_HOP) != ASC_FRONTEND_OK) return printf("error: frontend\n"), 3;
  int window = 0;
  uint64_t mark = asc_board_instructions();
  for (uint32_t at = 0; at < ASC_CLIP_SAMPLES;) {
    const uint32_t block = ASC_CLIP_SAMPLES - at < MIC_BLOCK ? ASC_CLIP_SAMPLES - at : MIC_BLOCK;
    size_t took = 0;
    const int status = asc_frontend_push(kAscClip + at, block, &took, input->data.int8);
    if (status < 0) return printf("error: frontend push %d\n", status), 3;
    at += static_cast<uint32_t>(took);
    if (status == ASC_FRONTEND_READY) {
      const uint64_t ready = asc_board_instructions();
      print_input(window, input);
      const uint64_t invoking = asc_board_instructions();  // printing is not the model's work
      if (interpreter.Invoke() != kTfLiteOk) return printf("error: Invoke\n"), 3;
      const uint64_t done = asc_board_instructions();
      print_window(window++, output, classes, ready - mark, done - invoking);
      mark = asc_board_instructions();
    }
  }
  const int status = asc_frontend_finish();
  printf("windows %d stack_bytes %u\n", window, static_cast<unsigned>(asc_board_stack_bytes()));
  return status < 0 ? 4 : 0;
}
