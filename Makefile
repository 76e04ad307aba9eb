# hotro: `make run` to start, `make test` to check everything. Both install
# what is missing first (a .venv on Python 3.10 from requirements.lock).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The first Python 3.10 that really runs (a pyenv shim may exist without the version selected).
PY310 ?= $(shell for p in $$HOME/.pyenv/versions/3.10*/bin/python3.10 /root/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10 $$(command -v python3.10); do [ -x "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMPS := .stamps
MODEL := models/hotro.tar.gz
TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) $(filter-out bot/nlu/forms.py,$(wildcard bot/nlu/*.py)) bot/text.py
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help install browser train secrets db run shell test test-unit test-data test-faq test-nlu test-stories test-integration bench faq-bench soak faq-eval faq-train clean

help:
	@echo "make run    install, train if needed, prepare the database and start hotro"
	@echo "make test   install, train if needed and run the whole test suite"
	@echo "make shell  chat with the running bot in this terminal"
	@echo "make bench  hotro beside the stock rasa init bot: ratios, latency, throughput (bench/results.md)"
	@echo "make soak   the production configuration under load with faults injected (writes bench/soak.md)"
	@echo "make faq-eval   FAQ checks and retrieval accuracy on held-out paraphrases"
	@echo "make faq-bench  FAQ rebuild time, latency and memory at 50, 200 and 1,000 entries (bench/faq-scale.md)"
	@echo "make faq-train  (optional) fold FAQ questions into the NLU data and retrain"

install: $(STAMPS)/venv

$(STAMPS)/venv: requirements.lock
	@if [ -z "$(PY310)" ]; then echo "Python 3.10 is needed (Rasa 3.6 supports 3.8-3.10). Install it (e.g. pyenv install 3.10) or set PY310=/path/to/python3.10"; exit 1; fi
	@test -x $(PY) || $(PY310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements.lock
	@mkdir -p $(STAMPS) && touch $@

# Browser tests use Debian's chromium (Playwright's own browser download is not possible here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else echo "the browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; \
	fi

train: $(MODEL)

$(MODEL): $(STAMPS)/venv $(TRAIN_INPUTS)
	$(RASA) train --fixed-model-name hotro --out models
	@touch $@

# Settings: every command below reads the environment first, then .env (bot/settings_env.py),
# so Make never sources .env itself. RASA_TOKEN, HOTRO_GATEWAY_SECRET and HOTRO_ACTION_SECRET
# are generated into .env (git-ignored) when missing; existing lines are never rewritten.
secrets: $(STAMPS)/venv
	@$(PY) -m bot.settings_env ensure-secrets

# Migrates (and fills with demo orders, unless it holds real ones) the database .env names.
db: $(STAMPS)/venv
	$(PY) -m bot db upgrade
	$(PY) -m bot db seed

run: $(STAMPS)/venv $(MODEL) secrets db
	@exec $(PY) -m bot.runner

shell: $(STAMPS)/venv
	@$(PY) -m bot.shell

test: $(STAMPS)/venv $(MODEL) test-unit test-data test-faq test-nlu test-stories test-integration
	@echo "all checks passed"

test-unit: $(STAMPS)/venv
	$(PY) -m pytest tests/unit -q

test-data: $(STAMPS)/venv
	$(RASA) data validate --domain domain.yml --data data --config config.yml
	$(PY) -m bot.action_scripts check
	$(PY) -m bot business-hours check

# Top-1 accuracy every form (vi, vi without diacritics, en) must reach on the held-out
# paraphrases; bench/faq.md has the latest figures.
FAQ_MIN_TOP1 ?= 0.90
# New entries (2-3 questions each, added at test time to a copy of faq/) must be found for
# paraphrases written by someone who did not write the entries.
FAQ_NEW_MIN_TOP1 ?= 0.80
FAQ_NEW_ENTRIES := tests/faq/new_entries.yml
FAQ_NEW_PARAPHRASES := tests/faq/new_entry_paraphrases.yml

test-faq: $(STAMPS)/venv
	$(PY) -m bot faq check
	$(PY) -m bot faq eval tests/faq/paraphrases.yml --min-top1 $(FAQ_MIN_TOP1)
	$(PY) -m bot faq eval $(FAQ_NEW_PARAPHRASES) --add-entries $(FAQ_NEW_ENTRIES) --min-top1 $(FAQ_NEW_MIN_TOP1)

faq-eval: $(STAMPS)/venv
	$(PY) -m bot faq eval tests/faq/paraphrases.yml --min-top1 $(FAQ_MIN_TOP1) --write bench/faq.md

# Optional: fold the FAQ questions into the NLU data (intent faq) and retrain.
faq-train: $(STAMPS)/venv
	$(PY) -m bot faq train-nlu
	$(MAKE) train

# Per written form, on tests/nlu/test_nlu_<form>.yml + held_out_<form>.yml (never copied into data/):
# intent accuracy (bot/quality.py says why accuracy) must reach each form's gate. vi is the form most
# customers type; without diacritics loses information (folding), hence its lower bar.
NLU_FORMS := vi vi_khong_dau en
NLU_MIN_vi ?= 0.95
NLU_MIN_vi_khong_dau ?= 0.92
NLU_MIN_en ?= 0.95

test-nlu: $(MODEL)
	rm -rf results/nlu
	@status=0; for form in $(NLU_FORMS); do \
	  mkdir -p results/nlu/$$form/data && cp tests/nlu/test_nlu_$$form.yml tests/nlu/held_out_$$form.yml results/nlu/$$form/data/ && \
	  $(RASA) test nlu --nlu results/nlu/$$form/data --model $(MODEL) --out results/nlu/$$form >results/nlu/$$form.log 2>&1 \
	    || { cat results/nlu/$$form.log; exit 1; }; \
	done; \
	for form in $(NLU_FORMS); do \
	  case $$form in vi) min=$(NLU_MIN_vi);; vi_khong_dau) min=$(NLU_MIN_vi_khong_dau);; en) min=$(NLU_MIN_en);; esac; \
	  $(PY) -m bot.quality results/nlu/$$form/intent_report.json --form $$form --min-accuracy $$min || status=1; \
	done; exit $$status

test-stories: $(MODEL)
	rm -rf results/core
	$(RASA) test core --stories tests/stories --model $(MODEL) --out results/core --fail-on-prediction-errors

test-integration: $(MODEL) browser
	$(PY) -m pytest tests/integration -q

# The stock `rasa init` bot is built once per Rasa version into var/bench/ (git-ignored) and measured in the
# same run, before hotro (bench/run.py). HOTRO_RASA_PROCESSES: hotro's Rasa processes (one per core).
bench: $(STAMPS)/venv $(MODEL) faq-bench
	$(PY) -m bench.run

# Generates FAQs of 50, 200 and 1,000 entries itself; FAQ_BENCH_OLD=1 also times the previous index.
faq-bench: $(STAMPS)/venv
	$(PY) -m bench.faq_scale

# The production configuration for SOAK_MINUTES (10) at SOAK_RATE messages/s (12) from SOAK_CUSTOMERS (48) while processes are
# killed (bench/soak.py). PostgreSQL: the machine's, at 127.0.0.1:5432 with trust auth (SOAK_POSTGRES_URL),
# a throwaway database. Redis: a redis-server of its own on a free port, since it gets killed.
# SOAK_FAULTS=rasa,gateway and a shorter SOAK_MINUTES for a quick run (written to var/soak.md).
soak: $(STAMPS)/venv $(MODEL)
	@command -v redis-server >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q redis-server; \
	  else echo "the soak needs redis-server: sudo apt-get install redis-server"; exit 1; fi; }
	$(PY) -m bench.soak

clean:
	rm -rf $(STAMPS) results models
