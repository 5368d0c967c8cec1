from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``errs|get:"f-sponsor-name"``: a dict item by a computed key (empty when missing)."""
    if not isinstance(mapping, dict):
        return ""
    return mapping.get(key, "")


@register.simple_tag
def field_id(*parts):
    """``{% field_id "f-websites" index "preapprovals" k %}`` → ``f-websites-0-preapprovals-1``."""
    return "-".join(str(p) for p in parts)
