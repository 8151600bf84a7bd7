"""Argument checks shared by every factory.

Each check raises before any layer is built, with a message that names the
argument, shows what was received, says what is allowed and, where there is
one, the fix.
"""

import math
import numbers


def check_choice(name, value, choices):
    """Raises `ValueError` unless `value` is one of `choices` (True and
    False match only themselves: 1 is not True)."""
    if not any(_same(value, choice) for choice in choices):
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"`{name}` must be one of {allowed}. Received: {name}={value!r}."
        )
    return value


def _same(value, choice):
    if isinstance(value, bool) or isinstance(choice, bool):
        return value is choice
    try:
        return bool(value == choice)
    except (TypeError, ValueError):  # an array compared elementwise
        return False


def check_int(name, value, *, minimum=1, allow_none=False):
    """Raises unless `value` is an int >= `minimum` (or None when allowed)."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(
            f"`{name}` must be {kind}. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(
            f"`{name}` must be at least {minimum}. Received: {name}={value!r}."
        )
    return int(value)


def check_int_tuple(name, value, *, minimum=1, allow_int=False, what=""):
    """Raises `ValueError` unless `value` is a non-empty tuple (or list) of
    ints >= `minimum` (or, with `allow_int`, one such int); returns a tuple.
    `what` ends the message (e.g. `", one per stage"`)."""
    if allow_int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= minimum
        for v in value
    ):
        one = f"an int >= {minimum} or " if allow_int else ""
        raise ValueError(
            f"`{name}` must be {one}a non-empty tuple of ints >= {minimum}{what}. "
            f"Received: {name}={value!r}."
        )
    return tuple(int(v) for v in value)


def check_fraction(name, value, *, inclusive_one=False):
    """Raises unless `value` is a float in [0, 1) (or [0, 1])."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"`{name}` must be a float. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    upper_ok = value <= 1 if inclusive_one else value < 1
    if not (0 <= value and upper_ok):
        bound = "[0, 1]" if inclusive_one else "[0, 1)"
        raise ValueError(
            f"`{name}` must be in {bound}. Received: {name}={value!r}."
        )
    return float(value)


def check_number(name, value, *, minimum=0, inclusive=False, maximum=None,
                 allow_none=False, unit=""):
    """Raises `ValueError` unless `value` is a real number above `minimum`
    (at least it with `inclusive`) and at most `maximum` when given, or None
    when allowed; returns it as a float (or None)."""
    if value is None and allow_none:
        return value
    low_ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and (
        value >= minimum if inclusive else value > minimum) and math.isfinite(value)
    if not low_ok or (maximum is not None and not value <= maximum):
        if maximum is not None:
            bound = f"in {'[' if inclusive else '('}{minimum:g}, {maximum:g}]"
        else:
            bound = f"{'>=' if inclusive else 'greater than'} {minimum:g}"
        none = "None or " if allow_none else ""
        raise ValueError(f"`{name}` must be {none}a finite number {bound}{unit}. "
                         f"Received: {name}={value!r}.")
    return float(value)


def check_bool(name, value):
    if not isinstance(value, bool):
        raise TypeError(
            f"`{name}` must be True or False. Received: {name}={value!r}."
        )
    return value


def check_image_size(image_size, *, name="image_size", minimum=8):
    """Normalizes an int or (height, width) pair to a tuple of two ints."""
    if isinstance(image_size, numbers.Integral) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool)
            for s in image_size
        )
    ):
        raise ValueError(
            f"`{name}` must be an int or a (height, width) pair of ints. "
            f"Received: {name}={image_size!r}."
        )
    if min(image_size) < minimum:
        raise ValueError(
            f"`{name}` must be at least {minimum} pixels on each side. "
            f"Received: {name}={tuple(image_size)!r}."
        )
    return tuple(int(s) for s in image_size)


def check_num_classes(num_classes, *, minimum=2):
    """`num_classes` is the first positional argument of classifying factories."""
    return check_int("num_classes", num_classes, minimum=minimum)
