"""Personal data shown in lists and exports is masked; only the people who need it see it whole."""


def mask_phone(value: str | None) -> str:
    """138****5678 for mobiles; keeps the last four digits of anything else long enough."""
    if not value:
        return ""
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 7:
        return f"{'*' * (len(digits) - 4)}{digits[-4:]}"
    return "*" * len(digits) if digits else "***"


def mask_account(value: str | None) -> str:
    """Bank accounts: first four and last four digits."""
    if not value:
        return ""
    compact = "".join(value.split())
    if len(compact) <= 8:
        return "*" * (len(compact) - 2) + compact[-2:] if len(compact) > 2 else "**"
    return f"{compact[:4]}{'*' * (len(compact) - 8)}{compact[-4:]}"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return f"{value[:3]}{'*' * max(len(value) - 7, 0)}{value[-4:]}"


def mask_contact(value: str | None) -> str:
    """A free-text contact: a phone number is masked as one; an e-mail keeps its first letter."""
    if not value:
        return ""
    value = value.strip()
    if "@" in value:
        name, _, domain = value.partition("@")
        return f"{name[:1]}***@{domain}"
    return mask_phone(value)
