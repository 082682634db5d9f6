"""What each architecture's config holds and accepts: the `model=` choices' schemas.

Apart from the builders (seed_cnn.py, cnn.py, resnet.py), so that a config is checked without
importing Keras. `name` is the config choice that builds it (conf/model/<name>.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass

from handrec.errors import require

POOLINGS = ("max", "avg")


@dataclass
class SeedCnnParams:
    """Every number of the original architecture, so each one can be swept."""

    name: str = "seed_cnn"
    filters: int = 32
    kernel_size: int = 5
    pool_size: int = 2
    dropout: float = 0.25
    dense_units: int = 256
    # Keras' default 0.99 (the original's) needs ~500 steps before the running statistics used
    # at inference fit; on the small embedded sample the model then predicts one class. Only
    # inference-time statistics depend on it: training updates are the same.
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        require(self.filters >= 1, f"model.filters must be >= 1, got {self.filters}")
        require(
            1 <= self.kernel_size <= 12,
            f"model.kernel_size must be in 1..12, got {self.kernel_size}",
        )
        require(1 <= self.pool_size <= 8, f"model.pool_size must be in 1..8, got {self.pool_size}")
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        require(self.dense_units >= 1, f"model.dense_units must be >= 1, got {self.dense_units}")
        require(
            0 <= self.bn_momentum < 1,
            f"model.bn_momentum must be in [0, 1), got {self.bn_momentum}",
        )


@dataclass
class CnnParams:
    """Block i has `convs_per_block` convolutions of `filters * width_multiplier**i` channels,
    then a 2×2 pooling (28 → 14 → 7 → 3 → 1 pixels, hence at most 4 blocks)."""

    name: str = "cnn"
    blocks: int = 2
    filters: int = 32
    width_multiplier: float = 2.0
    convs_per_block: int = 2
    kernel_size: int = 3
    batch_norm: bool = True
    pooling: str = "max"
    dropout: float = 0.25  # after every block's pooling
    dense_units: int = 128  # a hidden dense layer before the output; 0 for none
    global_pool: bool = False  # average each channel instead of flattening the last block
    head_dropout: float = 0.25  # before the output layer
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        require(1 <= self.blocks <= 4, f"model.blocks must be in 1..4, got {self.blocks}")
        require(self.filters >= 1, f"model.filters must be >= 1, got {self.filters}")
        require(
            1 <= self.width_multiplier <= 4,
            f"model.width_multiplier must be in [1, 4], got {self.width_multiplier}",
        )
        require(
            1 <= self.convs_per_block <= 8,
            f"model.convs_per_block must be in 1..8, got {self.convs_per_block}",
        )
        require(
            1 <= self.kernel_size <= 7, f"model.kernel_size must be in 1..7, got {self.kernel_size}"
        )
        require(
            self.pooling in POOLINGS,
            f"model.pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}",
        )
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        require(self.dense_units >= 0, f"model.dense_units must be >= 0, got {self.dense_units}")
        require(
            0 <= self.head_dropout < 1,
            f"model.head_dropout must be in [0, 1), got {self.head_dropout}",
        )
        require(
            0 <= self.bn_momentum < 1,
            f"model.bn_momentum must be in [0, 1), got {self.bn_momentum}",
        )

    def block_filters(self, block: int) -> int:
        return round(self.filters * self.width_multiplier**block)


@dataclass
class ResNetParams:
    """Stage i has `blocks_per_stage` residual blocks of `filters * 2**i` channels; every
    stage after the first halves the resolution. `stem_stride` 2 starts the stages at 14×14
    instead of 28×28, a quarter of the arithmetic for little accuracy on 28×28 characters."""

    name: str = "resnet"
    stages: int = 3
    blocks_per_stage: int = 2
    filters: int = 32
    stem_stride: int = 1
    dropout: float = 0.2  # before the output layer
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        require(1 <= self.stages <= 4, f"model.stages must be in 1..4, got {self.stages}")
        require(
            1 <= self.blocks_per_stage <= 8,
            f"model.blocks_per_stage must be in 1..8, got {self.blocks_per_stage}",
        )
        require(self.filters >= 1, f"model.filters must be >= 1, got {self.filters}")
        require(
            self.stem_stride in (1, 2), f"model.stem_stride must be 1 or 2, got {self.stem_stride}"
        )
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        require(
            0 <= self.bn_momentum < 1,
            f"model.bn_momentum must be in [0, 1), got {self.bn_momentum}",
        )


PARAMS: dict[str, type] = {p.name: p for p in (SeedCnnParams, CnnParams, ResNetParams)}
"""Config choice → its params dataclass."""
