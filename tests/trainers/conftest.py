import torch

# Tiny test models run faster on one thread, and CI has 2 cores shared with other
# test processes: OpenMP threads spinning against each other made steps 10x slower.
torch.set_num_threads(1)
