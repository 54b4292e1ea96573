"""What each network accepts in a post, checked while composing and again before scheduling, so a
post never waits for its time only to be refused by the platform."""

import re
from dataclasses import dataclass
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sales.enums import Network


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    size: int  # bytes
    format: str  # Pillow's name: JPEG, PNG, GIF…


@dataclass(frozen=True)
class Limits:
    label: str
    max_text: int
    max_images: int
    image_required: bool = False
    formats: tuple[str, ...] = ("JPEG", "PNG")
    max_image_bytes: int = 8 * 1024 * 1024
    min_side: int = 0
    # Accepted width / height ratio of images, inclusive.
    ratio: tuple[float, float] | None = None
    max_hashtags: int | None = None
    links_clickable: bool = True


# Figures from the platforms' publishing documentation (see SOCIAL_APIS.md).
LIMITS: dict[str, Limits] = {
    Network.FACEBOOK: Limits(
        label=gettext_lazy("Facebook"),
        max_text=63206,
        max_images=10,
        formats=("JPEG", "PNG", "GIF", "BMP", "TIFF"),
        max_image_bytes=10 * 1024 * 1024,
    ),
    Network.INSTAGRAM: Limits(
        label=gettext_lazy("Instagram"),
        max_text=2200,
        max_images=10,
        image_required=True,
        formats=("JPEG",),
        max_image_bytes=8 * 1024 * 1024,
        min_side=320,
        ratio=(0.8, 1.91),
        max_hashtags=30,
        links_clickable=False,
    ),
    Network.GOOGLE: Limits(
        label=gettext_lazy("Google Business Profile"),
        max_text=1500,
        max_images=1,
        max_image_bytes=5 * 1024 * 1024,
        min_side=250,
    ),
}

HASHTAG = re.compile(r"(?<!\w)#\w+")


def _shape(ratio: float) -> str:
    """A width / height ratio as the platforms write it: 0.8 is 4:5, 1.91 is 1.91:1."""
    if ratio < 1:
        fraction = Fraction(ratio).limit_denominator(20)
        return f"{fraction.numerator}:{fraction.denominator}"
    return f"{ratio:g}:1"


def limit_rules(network: str) -> list[tuple[str, str]]:
    """What `network` accepts, as (rule, sentence) pairs shown beside its preview before anything
    is broken; the figures are those post_problems checks."""
    limits = LIMITS.get(network)
    if limits is None:
        return []
    megabytes = limits.max_image_bytes // (1024 * 1024)
    rules = [("text", _("Up to %(max)d characters of text.") % {"max": limits.max_text})]
    if limits.max_images == 1:
        images = _("One image (only the first is sent).")
    elif limits.image_required:
        images = _("At least one image, up to %(max)d.") % {"max": limits.max_images}
    else:
        images = _("Up to %(max)d images.") % {"max": limits.max_images}
    rules.append(("images", images))
    rules.append(("formats", _("Formats: %(formats)s.") % {"formats": ", ".join(limits.formats)}))
    rules.append(("size", _("Up to %(max)d MB an image.") % {"max": megabytes}))
    if limits.min_side:
        rules.append(
            ("min_side", _("At least %(min)d pixels on each side.") % {"min": limits.min_side})
        )
    if limits.ratio:
        rules.append(
            (
                "ratio",
                _("Shape between %(low)s and %(high)s (width:height).")
                % {"low": _shape(limits.ratio[0]), "high": _shape(limits.ratio[1])},
            )
        )
    if limits.max_hashtags is not None:
        rules.append(("hashtags", _("Up to %(max)d hashtags.") % {"max": limits.max_hashtags}))
    if not limits.links_clickable:
        rules.append(("links", _("Links in the text are not clickable.")))
    return rules


def can_publish_to(network: str) -> bool:
    return network in LIMITS


def post_problems(
    *, network: str, text: str, link: str, images: list[ImageInfo]
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a post for one network. Errors block scheduling; warnings are shown
    beside the preview."""
    limits = LIMITS.get(network)
    if limits is None:
        return [_("Posts cannot be published on this network.")], []
    errors: list[str] = []
    warnings: list[str] = []
    if not (text.strip() or link or images):
        errors.append(_("The post is empty."))
    if len(text) > limits.max_text:
        errors.append(
            _("The text has %(count)d characters; %(network)s accepts %(max)d.")
            % {"count": len(text), "network": limits.label, "max": limits.max_text}
        )
    if limits.max_hashtags is not None and len(HASHTAG.findall(text)) > limits.max_hashtags:
        errors.append(
            _("%(network)s accepts at most %(max)d hashtags.")
            % {"network": limits.label, "max": limits.max_hashtags}
        )
    if limits.image_required and not images:
        errors.append(_("%(network)s needs at least one image.") % {"network": limits.label})
    if len(images) > limits.max_images:
        if limits.max_images == 1:
            warnings.append(
                _("%(network)s shows one image: only the first is sent.")
                % {"network": limits.label}
            )
        else:
            errors.append(
                _("%(network)s accepts at most %(max)d images.")
                % {"network": limits.label, "max": limits.max_images}
            )
    for number, image in enumerate(images[: limits.max_images], start=1):
        if image.format not in limits.formats:
            errors.append(
                _("Image %(number)d is %(format)s; %(network)s accepts %(formats)s.")
                % {
                    "number": number,
                    "format": image.format,
                    "network": limits.label,
                    "formats": ", ".join(limits.formats),
                }
            )
        if image.size > limits.max_image_bytes:
            errors.append(
                _("Image %(number)d weighs more than %(max)d MB, the limit of %(network)s.")
                % {
                    "number": number,
                    "max": limits.max_image_bytes // (1024 * 1024),
                    "network": limits.label,
                }
            )
        if limits.min_side and min(image.width, image.height) < limits.min_side:
            errors.append(
                _("Image %(number)d is smaller than %(min)d pixels on a side.")
                % {"number": number, "min": limits.min_side}
            )
        if limits.ratio and image.height:
            ratio = image.width / image.height
            if not limits.ratio[0] <= ratio <= limits.ratio[1]:
                errors.append(
                    _("Image %(number)d has a shape %(network)s refuses (between 4:5 and 1.91:1).")
                    % {"number": number, "network": limits.label}
                )
    if link and not limits.links_clickable:
        warnings.append(
            _("Links in %(network)s captions are not clickable.") % {"network": limits.label}
        )
    return errors, warnings
