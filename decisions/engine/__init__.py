"""Pure computations of the decision log: effectiveness verdicts and decision metrics. DataFrames
in and out; no ORM, no clock (the caller passes `today`)."""
