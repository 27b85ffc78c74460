// Package plotting draws the figures of the hyperconn command: line plots of
// one or more named series (optionally on a logarithmic y axis), heat maps of
// an n×n matrix, and grids of panels, over gonum.org/v1/plot. It saves them as
// PNG and SVG atomically, so that a reader of the output directory never sees
// a half-written image.
//
// # What it draws
//
// Lines is a line plot: each Series is a polyline through its points
// (X[i], Y[i]) with a marker at every point, in a colour and dash pattern of
// its own, named in the legend. With LogY the y axis is logarithmic and values
// at or below Floor (0 means DefaultFloor = 1e-17) are drawn at Floor, since a
// logarithmic axis cannot show zero: a deviation that is exactly 0 sits on the
// bottom of the plot instead of vanishing. Its ticks label every decade (every
// k-th beyond eight), and 2 and 5 times each decade on ranges of three decades
// or less, so that a loss axis from 0.2 to 2.3 is labelled 0.2, 0.5, 1, 2. IntX
// puts the x ticks on integers (layers, depths, steps) in steps of 1, 2 or 5
// times a power of ten. A Series may carry an underlying line (UnderX, UnderY),
// drawn thin and translucent in its colour beneath every series' own line —
// the raw values under a smoothed curve — and Crosses, points marked with a
// large cross (where a diverged run stopped). NoMarkers drops the per-point
// markers for series of hundreds of points.
//
// HeatMap colours the cells of an n×n row-major matrix M (entry (i, j) is
// M[i*n+j]). Row i is drawn as the i-th row from the top, with output stream
// i on the y axis and input stream j on the x axis: row i of a residual matrix
// holds the weights that build output stream i (SPEC §2). A nonnegative matrix
// gets a sequential palette from 0 to its maximum; a matrix with negative
// entries (an sHC mixer) a diverging palette symmetric about 0, so that white
// means zero. A colour bar is drawn beside it, and for n ≤ MaxCellLabels every
// cell is labelled with its value.
//
// Grid arranges panels (any *plot.Plot, nil for an empty cell) in rows of Cols
// with aligned axes. Tiles arranges figures of any kind (the figures of heat
// maps, say) in rows of Cols equal cells, without aligning anything.
//
// # Saving
//
// Save writes one Drawer (a *plot.Plot, a Grid, Tiles, the figure of a HeatMap) to a
// .png or .svg path; SaveAll writes base.png and base.svg. Each file is
// first drawn into memory, then written to a temporary file in the destination
// directory and renamed over the destination: an error at any stage (bad
// data, an unsupported extension, a failing disk) leaves the destination as
// it was (absent, or its previous content) and no temporary file behind.
//
// # Errors
//
// Data that cannot be drawn is an error: a non-finite value wraps
// ErrNonFinite, a plot without any point wraps ErrNoData, an extension other
// than .png or .svg wraps ErrFormat; a panic inside gonum/plot while drawing is
// recovered and returned wrapping ErrDraw. A Series whose X and Y lengths
// differ, or a HeatMap whose matrix is not N×N, is a programmer error and
// panics with ErrShape.
//
// # Cost
//
// Drawing is linear in the number of points (cells). A PNG panel of
// PanelWidth×PanelHeight (14×10 cm) at DPI = 150 is 827×591 pixels, 2 MB of
// RGBA in memory; the 5×2-panel drift figure of the exact command takes about
// 0.2 s to render and encode. An SVG is text proportional to the points
// drawn.
//
// # Example
//
//	l := plotting.Lines{Title: "deviation", XLabel: "n", YLabel: "max |sum − 1|", LogY: true,
//		Series: []plotting.Series{{Name: "fixed-20", X: []float64{2, 4, 8}, Y: []float64{1e-15, 1e-6, 1e-2}}}}
//	p, err := l.Plot()
//	if err != nil { ... }
//	_, err = plotting.SaveAll("out/deviation", p, plotting.PanelWidth, plotting.PanelHeight)
//
// writes out/deviation.png and out/deviation.svg.
package plotting
