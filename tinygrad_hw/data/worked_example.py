"""The classic fully worked 2-2-2 backpropagation example (docs/course.md §6): two inputs,
two sigmoid hidden units, two sigmoid outputs, the loss sum 1/2 (target - out)^2, and one
gradient-descent step with learning rate 0.5. Students recompute every number of it by hand;
`models.worked_example` and `python -m tinygrad_hw.viz` both start from these values.

Weights are stored as (out, in) matrices, so net_h = W1 x + b1: net_h1 = w1 i1 + w2 i2 + b1.
Each layer has one bias, shared by its two units."""

INPUTS = (0.05, 0.10)  # i1, i2
TARGETS = (0.01, 0.99)  # target_o1, target_o2
W1 = ((0.15, 0.20), (0.25, 0.30))  # [[w1, w2], [w3, w4]]
B1 = 0.35
W2 = ((0.40, 0.45), (0.50, 0.55))  # [[w5, w6], [w7, w8]]
B2 = 0.60
LEARNING_RATE = 0.5
