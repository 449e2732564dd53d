"""scikit-learn's parameter protocol (``get_params`` / ``set_params``) for nn models, without
importing scikit-learn.

scikit-learn's ``clone`` rebuilds an estimator as ``type(est)(**est.get_params())`` and checks
that the new one reports the very same objects; ``GridSearchCV`` then calls ``set_params``.
Constructors such as ``RBM``'s validate and convert their arguments (``dtype="float32"`` becomes
an ``np.dtype``), so the parameters are kept apart, exactly as given::

    class RBM(EstimatorParams, Module):
        def __init__(self, n_visible, n_hidden, lr=0.1, ...): ...

    rbm = nn.RBM(64, 32, lr=0.05)
    rbm.get_params()["lr"]             # 0.05, the object passed
    rbm.set_params(lr=0.01)            # rebuilds the RBM with lr=0.01 (untrained)
"""

from __future__ import annotations

import functools
import inspect
from typing import Any


class EstimatorParams:
    """Mixin: ``get_params``/``set_params`` from the arguments the constructor was called with.

    Every subclass's ``__init__`` is wrapped to record its arguments (defaults filled in,
    ``**kwargs`` flattened); the outermost constructor's record wins. ``set_params`` calls
    ``__init__`` again with the changed arguments, so the model is validated and rebuilt from
    scratch (fitted weights are discarded, as a refit would do).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_arguments(cls.__dict__["__init__"])

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's arguments, as given (``deep`` is accepted for scikit-learn)."""
        return dict(self.__dict__["_init_args"])

    def set_params(self, **params: Any) -> EstimatorParams:
        """Rebuild with some constructor arguments changed; returns self."""
        if not params:
            return self
        valid = self.get_params()
        for name in params:
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator "
                                 f"{type(self).__name__}. Valid parameters are: "
                                 f"{sorted(valid)!r}.")
        self.__init__(**{**valid, **params})
        return self


    def __sklearn_tags__(self) -> Any:
        """scikit-learn's description of the estimator (asked for by scikit-learn only, so
        importing it here costs nothing): default tags, a transformer if it can transform."""
        from sklearn.base import BaseEstimator
        from sklearn.utils import TransformerTags

        tags = BaseEstimator.__sklearn_tags__(self)
        if callable(getattr(self, "transform", None)):
            tags.transformer_tags = TransformerTags()
        return tags


def _recording_arguments(init):
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = {}
        for name, value in list(bound.arguments.items())[1:]:
            if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(value)
            else:
                arguments[name] = value
        object.__setattr__(self, "_init_args", arguments)

    return __init__
