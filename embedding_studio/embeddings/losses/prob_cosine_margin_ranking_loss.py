"""The seeds' `CosineProbMarginRankingLoss`: sigmoid margin ranking on cosine similarities."""

from __future__ import annotations

from embedding_studio.embeddings.losses.prob_margin_ranking_loss import ProbMarginRankingLoss

DEFAULT_COSINE_SCALE = 20.0


class CosineProbMarginRankingLoss(ProbMarginRankingLoss):
    """`ProbMarginRankingLoss` tuned for cosine similarities (ranks in [-1, 1]).

    Useful margins between cosine similarities are small (0.01 to 0.1: the `margin`
    hyperparameter of `INITIAL_PARAMS`), so the sigmoid is steepened by `scale`: a pair
    whose clicked result leads by the margin costs 0.5, one that trails by 0.25 costs
    ~0.99 and is barely pushed any more (probably a noisy click).

    Example (seed)::

        FineTuningSettings(loss_func=CosineProbMarginRankingLoss(), step_size=35,
                           test_each_n_sessions=0.5, num_epochs=3)

    :param base_margin: the lead a clicked result should have, in cosine units
        (default 0.05; the worker replaces it with the trial's `margin`)
    :param scale: steepness of the sigmoid (default 20)
    """

    def __init__(self, base_margin: float = 0.05, scale: float = DEFAULT_COSINE_SCALE) -> None:
        super().__init__(base_margin=base_margin, scale=scale)
