"""Training: models (ResNorm, BC-ResNet-Mod), device translation, distillation, pruning, QAT (torch)."""
