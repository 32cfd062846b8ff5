"""Colour palettes shared by the screen charts (`ui/`) and the print exports (`export/`)."""

#: Colour-blind-safe qualitative palette (Okabe & Ito, 2008), in its usual order.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BLUE, ORANGE, GREEN, PINK, SKY, VERMILION, YELLOW, BLACK = OKABE_ITO
GREY = "#999999"
#: The territory, its département, France (distinct in greyscale too).
COMPARE_COLOURS = (BLUE, ORANGE, GREY)
