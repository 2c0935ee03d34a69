"""The numpy-only lowest layer: audio input, resampling, the log-mel frontend, labels and profiles.

Training, export and the on-device runtime all compute features through this package, so the features a
model is trained on are by construction the features it sees on the device.
"""
