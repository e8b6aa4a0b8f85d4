"""The answer checker behind :func:`creditlib.exercises.check`: it compares a reader's answer with the value
``creditlib`` computes and returns a :class:`~creditlib.exercises.checker.verdicts.Verdict` (a status and a
message that says what is off without giving the answer away).

One check, in the order it happens, and the module that holds each step:

1. In the reader's kernel, :func:`creditlib.exercises.check` copies the answer
   (:mod:`~creditlib.exercises.checker.plain_copy`) and sends the copy, or a function's ``cloudpickle`` bytes, to
   the judge process (:mod:`~creditlib.exercises.checker.judge_process`): a clean interpreter, started once per
   kernel, never a fork of it.
2. The judge forks a worker per check (:mod:`~creditlib.exercises.checker.worker`), which computes the expected
   value, reads the copy (:mod:`~creditlib.exercises.checker.reading`), decides
   (:mod:`~creditlib.exercises.checker.deciding`) with the exercise's verifier, built from
   :mod:`~creditlib.exercises.checker.comparing` or :mod:`~creditlib.exercises.checker.function_answers`, all
   within the time limit.
3. A function answer runs in a child of the worker (:mod:`~creditlib.exercises.checker.function_runner`), under
   the seccomp filter of :mod:`~creditlib.exercises.checker.sandbox`; it sends plain JSON back.
4. :mod:`~creditlib.exercises.checker.verdicts` holds the verdict and the message helpers every step uses.

The rules, in order of importance (the threat model; each module's docstring says how it keeps them):

* The reader's objects never run and never decide. The first step of every check is
  :func:`~creditlib.exercises.checker.plain_copy.plain_copy`: every type is decided by identity over the real
  MRO (``type(x) is int``, never ``isinstance``, ``==`` or a hash of a reader's object), only exact built-in
  containers are walked, sympy objects of sympy's own classes are rebuilt from their ``.args``, tensors and
  arrays are copied to plain numbers, and sizes are checked before anything is expanded; everything after it
  reads the copy. Nothing a reader gives reaches ``sympify``, and strings are never evaluated.
* Sound: ``correct`` needs a proof (structural equality, exact rational arithmetic, or
  ``simplify(answer − expected) == 0``). Evaluation at random points over the whole domain can only refute
  (``incorrect``); when the checker can neither prove nor refute, the status is ``undecided``.
* One float policy: where no tolerance is stated, floats are ``invalid`` and the message says whether the
  values would be right written exactly.
* Never raise on garbage; every step runs under a time limit (the worker's). Any failure while reading or
  evaluating an answer makes it ``invalid``, with its reason
  (:func:`~creditlib.exercises.checker.worker.judge_answer`); only a failure to compute the expected value is
  the checker's and makes it ``undecided``.
* Code that ran the reader's code never judges. A reader's *function* runs in a child of the worker that closes
  every inherited file descriptor but its result pipe, runs under the seccomp filter (no signals, processes,
  file writes or sockets) and returns plain JSON, which the worker decodes (never unpickles) and compares with
  the reference it computes itself. A given seed never earns ``correct`` alone: a fresh set of inputs is always
  tried too.

Known limitations. Code in the reader's own kernel is not defended against: it can patch the checker before
calling ``check``, and a process of the same user can open another process's pipes through
``/proc/<pid>/fd``. Where seccomp is refused, a function answer is held only by the process boundary.
Integrals, sums and derivatives in answers are evaluated with sympy's ``doit()``, whose result is trusted: a
sympy integration bug could make a wrong ``Integral`` answer pass (no numerical cross-check is made).

This package re-exports nothing: each name is imported from its module.
"""

__all__: list[str] = []
