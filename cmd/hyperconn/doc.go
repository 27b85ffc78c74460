// Command hyperconn runs hyperconn's experiments from the command line.
//
// Usage:
//
//	hyperconn <command> [flags]
//	hyperconn exact [flags]   the exactness report
//	hyperconn depth [flags]   depth-stability experiments on MNIST
//	hyperconn lm [flags]      language-model experiments on a text
//	hyperconn merge -out DIR SHARD_DIR...   combine a sweep run in shards
//	hyperconn -h              the list of commands
//
// Every command follows the same conventions: "-h" prints its usage on
// stdout and exits 0; an unknown flag, a bad value or a stray argument prints
// one line naming the problem, then the usage, on stderr and exits 2 before
// anything is written — so do flags that are each within bounds but would
// together need too much memory (the message says how much); a failure
// while running exits 1. Output files are
// written atomically (a temporary file in the same directory, then a rename),
// so an interrupted run never leaves a half-written file.
//
// # hyperconn exact
//
// The exactness report measures how close six ways of building an n×n
// residual matrix H from n×n logits Z come to their manifold:
//
//	fixed20         birkhoff.Project, Fixed: the mHC paper's 20 Sinkhorn sweeps
//	tolerance       birkhoff.Project, Tolerance at the element type's floor
//	                (1e-13 float64, 2e-6 float32), at most 10⁴ sweeps
//	exact           birkhoff.Project, Exact: Newton on the semi-dual
//	mhclite         w = softmax over all n! permutations p_k of the scores
//	                s_k = Σ_i Z[i, p_k(i)], H = Σ_k w_k·P_k (birkhoff.Mix);
//	                a log-linear model whose mixture is doubly stochastic by
//	                construction; n ≤ 8
//	shc-structural  spectral.Sphere, fed from the top-left (n−1)×(n−1) block B
//	                of Z: z_U = γ·tanh(B_ij), z_V = γ·tanh(B_ji) for i < j,
//	                σ_i = tanh(B_ii), γ = 1 (the sHC reference init's γ)
//	shc-normalised  spectral.Normalizer with r = 1: H = Z/σ₁(Z)
//
// for each n (-n, default 2–16), element type (float32 and float64) and input
// family: gauss1, gauss3, gauss5 (every logit from N(0,σ²), σ = 1, 3, 5),
// near-identity (8I + N(0,1), the regime of a mixer at init) and no-matching
// (logits 0 on a pattern with no perfect matching and −30 elsewhere, n ≥ 3,
// the hardest case for Sinkhorn). All methods and both element types see the
// same draws (float32 rounds them).
//
// Each row reports, over -trials draws (default 32), the max and median
// deviation, which is the doubly stochastic deviation max |row or column
// sum − 1| (measure "ds", birkhoff.Deviation) for the first four methods and
// the sphere error max(|row or column sum − 1|, |‖H‖₂ − 1|) (measure "sphere",
// with the exact ‖H‖₂ of spectral.Norm) for the two sHC methods; the largest
// |‖H‖₂ − 1| for every method; and the most iterations of one projection. It
// multiplies -depth further independent draws (default 64) into the composite
// M = H_L···H_1, in float64, and reports its forward Amax max_i |Σ_j M_ij| and
// backward Amax max_j |Σ_i M_ij| (SPEC §6). Row i of every H holds the weights
// that build output stream i, so row sums are the forward gain and column sums
// the backward gain; PyTorch ports store the transpose. Finally it times one
// projection, and one projection plus its backward with a random upstream
// gradient, in nanoseconds (the fastest of three rounds of about a
// millisecond each; -timing=false skips this and reports 0).
//
// The JSON document (-json, and results.json under -out) is
//
//	{"command": "exact", "orientation": "...", "config": {...}, "rows": [...]}
//
// where config echoes n, trials, depth, seed, dtypes, methods, families and
// timing, and each row has these stable fields:
//
//	method               fixed20, tolerance, exact, mhclite, shc-structural, shc-normalised
//	measure              "ds" or "sphere": what the deviation fields hold
//	n, dtype             matrix size; "float32" or "float64"
//	family, family_name  gauss1 … no-matching; its description, e.g. "N(0,5²)"
//	trials               draws behind the deviation fields
//	max_deviation        the largest deviation over the trials
//	median_deviation     the median deviation over the trials
//	max_norm_error       the largest |‖H‖₂ − 1| over the trials
//	max_iterations       most sweeps + Newton steps of one projection (0: not iterative)
//	depth                layers in the composite
//	forward_amax         max_i |Σ_j M_ij| of the composite
//	backward_amax        max_j |Σ_i M_ij| of the composite
//	ns_forward           nanoseconds per projection (0 without timing)
//	ns_forward_backward  nanoseconds per projection plus backward (0 without timing)
//
// With -out DIR the command also writes, as PNG and SVG, for each element
// type: deviation_<dtype> (max deviation vs n on a log axis, a panel per
// family, a line per method), drift_<dtype> (forward and backward Amax of the
// running product H_l···H_1 vs the layer l, at n = -plot-n, log axis) and
// driftgap_<dtype> (the same as |Amax − 1|, which separates the doubly
// stochastic methods that drift_ shows on top of each other at 1).
//
// The default run (808 rows) takes about 10–20 seconds on two cores.
//
// # hyperconn depth
//
// The depth-stability sweep trains the MNIST classifier of package net
// (embedding → L hyper-connected pre-norm MLP blocks of width C with n
// streams → head) once per mixer (-mixers: residual, hc, hc-static, mhc,
// mhc-exact, mhclite, shc, idhc, kromhc, orthohc, mhc-v4) and depth
// (-depths), with AdamW, -lr peak, a
// warmup of steps/10 and a linear decay to lr/20, weight decay 0.01,
// gradient clipping at 1, on the first -subset training images in batches
// of -batch drawn by a Batcher seeded with -seed (which also seeds the
// weights), for -steps steps (or -epochs passes). It then scores the first
// -test test images and runs the first 256 of them through the network to
// measure its residual matrices with net's Model.Diagnose (SPEC §6): the
// composite M = H̄_L···H̄_1 of the token-averaged matrices, its forward and
// backward Amax (row and column sums: row i of H builds output stream i),
// σ_min, ‖M − J‖₂ and effective rank; the same Amax averaged over the
// per-token composites of 16 sampled tokens; the worst doubly stochastic
// deviation and sphere error |σ₁ − 1| over single tokens and blocks; and
// the gradient norms: the largest, the largest after the warmup and its
// ratio to their median (the spike factor). During training, every
// -diag-every steps (default 5, about 0.1–0.3% of the run's time), it
// records the composite gains and the worst DS deviation of the training
// batch (net's Model.Summarize). A run that diverges (a NaN, an infinity or a
// batch loss above 100) stops there and is reported as diverged, not as a
// failure; values that cannot be measured on it are null in JSON and empty
// in CSV.
//
// Experiments run -jobs at a time (default GOMAXPROCS), the deepest first,
// each on one thread (gemm.SetThreads(1)), so that the results do not
// depend on -jobs. The output directory -out holds
//
//	results.json   {"command": "depth", "complete": …, "config": {…},
//	               "training": {…}, "records": [one per mixer × depth]}
//	results.csv    the records as rows, the same fields as columns
//	runs/<mixer>_L<depth>.json   the run file: key, record, batch losses,
//	               gradient norms and per-block diagnostics (Amax curves,
//	               identity distances, token-averaged H_res)
//	runs/<mixer>_L<depth>.csv    step log: step, loss, accuracy, grad_norm, lr
//	loss, gradnorm, gain, amax, accuracy, identity, heatmap (.png and .svg)
//	               the plots
//
// README.md ("hyperconn depth") documents every field. Every file is
// written atomically. Ctrl-C (SIGINT or SIGTERM) stops the sweep between
// two training steps: the finished experiments are saved, the unfinished
// ones leave nothing, results.json says "complete": false, no plot is
// drawn, and the command exits 1. With -resume an experiment whose run file
// exists and whose key — mixer, depth, n, C, steps, batch, learning rates,
// warmup, weight decay, seed, training and test sizes, the diagnostic
// settings (-diag-every included) and a format version — equals the
// current one is loaded instead of run; any changed hyperparameter runs it
// again, and so does a run file or step log whose SHA-256 (kept in the run
// file) does not match. Even a SIGKILL or a full disk leaves results.json
// and results.csv listing only runs whose run files hold those very records
// (complete: false until the end; see depthfiles.go), and the next run
// removes the temporary files of a killed one.
//
// The defaults (every mixer at depths 8, 16, 32, C = 32, n = 4, 300 steps
// of 64 images, float32) take 34.5 s on the two lightly loaded cores of
// the Xeon VM, against 183 s for the float64 default of seven mixers on
// gonum's kernels before. With the seven mixers before idhc, kromhc,
// orthohc and mhc-v4, the float32 default ran 3.4–4.7× faster in wall
// time (3.8–6.4× in processor time)
// than the float64 default on gonum's kernels that preceded the package's
// own micro-kernels (three interleaved pairs of runs on a 2-core Xeon VM
// shared with other jobs: 39 s against 183 s at light load, 144 s against
// 575 s and 280 s against 963 s under heavy load). HC's composite forward
// Amax grows to 5.1 at depth 32 while the doubly stochastic and
// spectral-sphere mixers stay at 1; -float32=false trains in float64. See
// Example_depth for a small sweep.
//
// # hyperconn lm
//
// The language-model sweep trains the character-level (byte-level)
// decoder-only transformer of package net — token and position embeddings,
// expand to n streams, L blocks of [RMSNorm → causal multi-head attention]
// and [RMSNorm → MLP], each of the 2L sub-layers wrapped by its own mixer,
// reduce, final RMSNorm, head — once per mixer (-mixers), depth (-depths,
// in blocks), peak learning rate (-lrs) and seed (-seeds, which seeds the
// weights and the windows drawn), on -text (default: Newton's Opticks,
// embedded in the program, so nothing is read or downloaded). The text is
// split by position: its last -valid share (default 0.1) validates. Each
// step trains on -batch windows of -seq characters drawn uniformly from the
// training split, with AdamW (weight decay 0.01), -warmup steps of linear
// warmup (default steps/10), a linear decay to lr/10 and gradient clipping
// at 1; every -eval-every steps and after the last it takes the validation
// loss over the first -eval-tokens characters of the validation split. The
// table prints the validation split's unigram entropy H1 and bigram entropy
// H2 (net's Corpus.Entropy), in nats and bits per character, and marks each
// experiment's final validation loss below or above H2: a model below H2
// has learned more than which character follows which. Every -diag-every
// steps (default 10) and after the last it summarises the training batch's
// residual matrices (net's LM.Summarize): the forward and backward Amax of
// the composite H̄_2L···H̄_1 of the token-averaged matrices and of every
// prefix and suffix of it, the worst per-token DS deviation and the identity
// distance ‖H̄_l − I‖_F/√(n−1) of each sub-layer, and the utilisation of the
// last streams (effective number of streams, dominant share); the table
// shows the final and largest gains, the mean identity distance and the
// utilisation at the end. -float32 (default true) trains the layers in
// float32 as depth does; -float32=false in float64.
//
// Experiments run -jobs at a time, the longest first, each on one thread,
// so that the results do not depend on -jobs; the files follow the depth
// command's rules (atomic writes, checksummed run files, results that never
// list a record its run file contradicts, -resume by key, Ctrl-C between
// two steps, a second signal kills). The key of an experiment holds every
// setting that can change its result and the SHA-256 of the text. The
// output directory -out holds
//
//	results.json   {"command": "lm", "complete": …, "config": {…}, "training": {…},
//	               "baselines": {…}, "records": [one per mixer × depth × lr × seed]}
//	results.csv    the records as rows, the same fields as columns (but the lists)
//	runs/lm_<mixer>_L<depth>_lr<lr>_s<seed>.json   the run file: key, record
//	               (with its validation losses and summaries), batch losses and
//	               gradient norms
//	runs/lm_<mixer>_L<depth>_lr<lr>_s<seed>.csv    step log: step, loss, grad_norm, lr
//	lm-loss, lm-gradnorm, lm-gain, lm-amax, lm-identity, lm-streams,
//	lm-heatmap (.png and .svg)   the plots, a panel per depth and learning
//	               rate, a line per mixer (the first seed's runs)
//
// An empty, binary or too short -text, a -seq longer than the validation
// split, and any bad flag exit 2 with one line naming the problem before
// anything is written, as do settings whose -jobs largest experiments would
// need more than 8 GB together (estimated from net.Footprint, plus each
// attention sub-layer's batch·heads·seq² probabilities). README.md
// ("hyperconn lm") documents every field and the plots.
//
// # Sweeps beyond one machine: -shard and hyperconn merge
//
// "hyperconn depth -shard i/k" (and "hyperconn lm -shard i/k") runs shard
// i of k of the sweep the other
// flags describe: of its experiments in report order, those with 0-based
// index j = i−1 (mod k), round-robin so that every shard gets a share of
// each mixer and depth. It writes them into its own -out as usual, with
// results.json marked "shard": "i/k", "shard_complete" (whether the
// shard's own experiments all finished) and "complete": false unless
// k = 1, and draws no plots; -resume works as without -shard. An empty
// shard (k above the number of experiments) is valid and says so. A
// malformed value ("0/3", "4/3", "a/b", "1/0") is a usage error.
//
// "hyperconn merge -out DIR SHARD_DIR..." combines the shard directories:
// it verifies every listed run file as -resume does (its own SHA-256 and
// its step log's), checks that the shards are of one sweep (the same
// command, config and training settings, but -jobs, -shard and -out, and
// lm's -text path, whose content's SHA-256 must match), that
// no experiment is missing (-partial allows it: complete: false, no plots)
// and that one held by two shards has the same results in both, and only
// then writes into DIR the run files and step logs (byte for byte), the
// results, the plots and the table (or -json), as the unsplit sweep would
// have (but wall times, and lm's tokens per second). An input problem is one line and exit status 2
// with nothing written; DIR may not be a shard directory. Merge knows a
// command by results.json's "command": a sweep command joins it with an
// entry in sweepKinds (merge.go) and a sweepMerger of its run files.
//
// # Example
//
//	$ hyperconn exact -n 4 -trials 8 -depth 16 -dtypes float64 -families no-matching -methods fixed20,exact -timing=false
//
// prints one row per method, in which Fixed-20 leaves a column error of
// 2.65e-02 that the 16-layer product turns into a backward gain of 1.35,
// while Exact is doubly stochastic to 4e-16 and its product keeps both gains
// at 1 (see Example_exact).
package main
