"""The training loop: an epoch of updates, means over minibatches, a progress bar with the loss."""
import time

from .optimizers import update


def train_epoch(gradient, w, data, opt, desc="train"):
    """One pass over ``data``: ``g = gradient(w, x, y)`` then ``update(w, g, opt)`` per minibatch."""
    for x, y in progress(data, desc=desc, leave=False):
        update(w, gradient(w, x, y), opt)
    return w


def mean_over(fn, w, data):
    """The mean of ``fn(w, x, y)`` over minibatches, weighted by their sizes (loss, accuracy)."""
    total = count = 0.0
    for x, y in data:
        k = y.shape[-1]
        total += float(fn(w, x, y)) * k
        count += k
    return total / count


# --- progress bar ----------------------------------------------------------------------------
class Progress:
    """A tqdm bar over an iterable that can also show the running loss.

    ``bar = progress(data); for x, y in bar: ...; bar.set_loss(l)``. The bar
    shows the iteration speed (tqdm's it/s) and an exponentially smoothed
    loss; ``bar.loss`` is the mean of all losses reported so far.
    """

    def __init__(self, iterable, desc=None, smoothing=0.1, **tqdm_kwargs):
        from tqdm.auto import tqdm  # lazy: tqdm is optional
        tqdm_kwargs.setdefault("disable", None)  # no bar when the output is not a terminal
        self.bar = tqdm(iterable, desc=desc, **tqdm_kwargs)
        self.smoothing = smoothing
        self.smoothed = None
        self.total = 0.0
        self.count = 0
        self.start = time.perf_counter()

    def __iter__(self):
        return iter(self.bar)

    def __len__(self):
        return len(self.bar)

    @property
    def loss(self):
        """Mean of the losses reported with :meth:`set_loss` (nan before any)."""
        return self.total / self.count if self.count else float("nan")

    @property
    def elapsed(self):
        """Seconds since the bar was made."""
        return time.perf_counter() - self.start

    def set_loss(self, value):
        """Report one loss value (a float or a 0-d array) to show on the bar."""
        v = float(value)
        self.total += v
        self.count += 1
        a = self.smoothing
        self.smoothed = v if self.smoothed is None else (1 - a) * self.smoothed + a * v
        self.bar.set_postfix_str(f"loss={self.smoothed:.4g}", refresh=False)

    def close(self):
        """Close the bar."""
        self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(iterable, desc=None, **tqdm_kwargs):
    """Wrap ``iterable`` in a :class:`Progress` bar (tqdm) with ``set_loss``.

    Keyword arguments go to ``tqdm`` (e.g. ``leave=False``); the bar is off
    when the output is not a terminal unless ``disable=False`` is given.
    """
    return Progress(iterable, desc=desc, **tqdm_kwargs)
