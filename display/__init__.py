"""The caption window: large, calm, legible captions (pygame); line breaking and layout are pure."""
