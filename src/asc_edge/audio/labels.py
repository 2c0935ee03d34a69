"""Scene labels and recording devices of TAU Urban Acoustic Scenes 2020 Mobile (development set)."""

SCENES: tuple[str, ...] = (
    "airport", "bus", "metro", "metro_station", "park",
    "public_square", "shopping_mall", "street_pedestrian", "street_traffic", "tram",
)

REFERENCE_DEVICE = "a"
#: Devices present in the fold1 training split (a, b, c are real; s1..s3 simulated).
SEEN_DEVICES: tuple[str, ...] = ("a", "b", "c", "s1", "s2", "s3")
#: Devices that appear only in the evaluate/test split.
UNSEEN_DEVICES: tuple[str, ...] = ("s4", "s5", "s6")
DEVICES: tuple[str, ...] = SEEN_DEVICES + UNSEEN_DEVICES


def scene_index(label: str) -> int:
    """Index of a scene label in :data:`SCENES` (ValueError for an unknown label)."""
    return SCENES.index(label)
