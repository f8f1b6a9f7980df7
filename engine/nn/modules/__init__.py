"""torch.nn.modules: the Module base class, containers, layers, activations and losses.

Offered only where the engine's functional op exists.  Not yet offered (their functional ops
come with later work): convolutions, pooling, normalisation (BatchNorm, LayerNorm, GroupNorm),
Embedding, recurrent layers, Transformer, and the activations/losses F lacks (ELU, SELU,
Softplus, Hardtanh, Mish, PReLU, HuberLoss, SmoothL1Loss, KLDivLoss, ...).
"""

from .activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Tanh
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .dropout import Dropout
from .flatten import Flatten, Unflatten
from .linear import Bilinear, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "Bilinear", "CrossEntropyLoss", "Dropout", "Flatten",
    "GELU", "Identity", "L1Loss", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module",
    "ModuleDict", "ModuleList", "NLLLoss", "ParameterDict", "ParameterList", "ReLU", "SiLU",
    "Sequential", "Sigmoid", "Softmax", "Tanh", "Unflatten",
]
