#!/usr/bin/env python3
"""Build spacescribe's sample audio with exact references.

Run through scripts/make-samples, which prepares the venv and the source
recordings and passes their paths here. Every output is a pure function of
the scripts below, the source files (checked by SHA-256) and the tool
versions, so re-running gives the same bytes.

Conversations are mixed from separately rendered pieces of speech: each piece
is trimmed to its first and last loud frame before it is placed, so the
reference start/end of a piece is where its speech really starts and ends.
"""

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SR = 16000
FRAME = 160  # 10 ms frames for the energy trim
# A silence this long inside a piece ends a stretch of speech in the RTTM (a voice's own
# pauses at full stops run 0.6-0.8 s for some TTS voices and up to 1.2 s in the JFK
# recording; counting those as speech would credit a speaker with time they were silent).
MIN_REF_PAUSE_S = 0.5
PIECE_RMS_DBFS = -22.0  # every piece is levelled to this active RMS before its speaker gain
NOISE_FLOOR_DBFS = -66.0  # faint room noise under the mixes, so gaps are not digital zero
NOISE_SEED = 20240611

# ---------------------------------------------------------------- voices


@dataclass(frozen=True)
class Voice:
    """One speaker of a mix: how to render (or load) its pieces and how loud it sits."""

    name: str  # label used in RTTM and ref.json
    engine: str  # piper | hibari | flite | festival | espeak | file
    arg: str = ""  # flite voice name / festival voice function / espeak-ng voice+variant
    gain_db: float = 0.0  # speakers are not all equally loud on a real Space
    phone: bool = False  # a caller on a phone line: 300-3400 Hz, 8 kHz mu-law, line noise
    sox: tuple = ()  # sox effects on the render: another vocal tract from the same synthesizer


VOICES = {
    "joe": Voice("joe", "piper", gain_db=0.0),
    "heart": Voice("heart", "hibari", gain_db=-1.5),
    "slt": Voice("slt", "flite", "slt", gain_db=1.0),
    "awb": Voice("awb", "flite", "awb", gain_db=-2.5),
    "ked": Voice("ked", "festival", "(voice_ked_diphone)", gain_db=-4.0),
    "jfk": Voice("jfk", "file", gain_db=0.0),
    "librivox_reader": Voice("librivox_reader", "file", gain_db=-1.0),
}

# The rapid sample: own gains, spread over 8 dB (a loud host, a quiet guest, a phone caller).
RAPID_VOICES = {
    "joe": Voice("joe", "piper", gain_db=2.5),
    "heart": Voice("heart", "hibari", gain_db=0.0),
    "slt": Voice("slt", "flite", "slt", gain_db=-1.5),
    "awb": Voice("awb", "flite", "awb", gain_db=-5.5),
    "rms_phone": Voice("rms_phone", "flite", "rms", gain_db=-3.0, phone=True),
}

# The German sample: espeak-ng's German voice with three of its variants (a woman hosting,
# a man and a woman as guests), 3.5 dB apart. Of the variants tried, whisper base understood
# these best (female3, female4 and female1 were much worse); female5 is the breathy, higher one,
# raised a further 300 cents by sox (pitch and formants) because as rendered it embedded as
# the same voice as female2 (scripts/eval --model base german found two speakers, DER 25%).
GERMAN_VOICES = {
    "anna": Voice("anna", "espeak", "de+f2", gain_db=0.0),
    "bernd": Voice("bernd", "espeak", "de+m3", gain_db=-2.0),
    "clara": Voice("clara", "espeak", "de+f5", gain_db=1.5, sox=("pitch", "300")),
}

# ---------------------------------------------------------------- scripts
#
# A Turn is one speaker's contribution: pieces of text (or FILE:<id> for real
# recordings) separated by pauses in seconds. Placement:
#   gap=g     start g seconds after the current floor holder's speech ends
#             (negative g: start while they are still talking - an interruption)
#   during=f  start at fraction f of the floor holder's turn without taking the
#             floor (backchannels, failed interruptions)
#   at=t      start at absolute time t
#   inside=f  a backchannel: centred near fraction f of the floor holder's turn, moved to
#             the nearest place where it lies wholly inside one stretch of their speech
#             with at least INSIDE_MARGIN_S to spare on each side


@dataclass
class Turn:
    speaker: str
    parts: list
    gap: float = 0.6
    during: float | None = None
    at: float | None = None
    inside: float | None = None
    pieces: list = field(default_factory=list)  # filled when mixed: (start, end, text, speech stretches)


def T(speaker, *parts, **kw):
    return Turn(speaker, list(parts), **kw)


INTERVIEW = [
    T("joe", "Welcome to Open Archive, the show where we listen to old recordings "
      "and talk about them. My producer Dana is here with me. Dana, what did you bring first?", at=0.8),
    T("heart", "A clip everybody knows. This is President Kennedy's inaugural address.", gap=0.5),
    T("jfk", "FILE:jfk", gap=0.9),
    T("joe", "That line still gives me chills.", 0.6, "What else do you have?", 0.7,
      "Something a little quieter?", gap=0.8),
    T("heart", "Yeah.", during=0.2),
    T("heart", "A volunteer reading the first chapter of Sense and Sensibility. "
      "Listen to how the narrator describes John Dashwood.", gap=0.45),
    T("librivox_reader", "FILE:0870", 0.55, "FILE:0880", 0.5, "FILE:0890", gap=0.8),
    T("joe", "So he is not a bad man. He is just a little selfish.", gap=0.6),
    T("heart", "Exactly. And then it goes on.", gap=0.35),
    T("librivox_reader", "FILE:0920", 0.6, "FILE:0930", gap=0.7),
    T("joe", "Thank you, Dana. That is all for this week's Open Archive.", gap=0.9),
]

PANEL = [
    T("joe", "Good evening, and welcome to City Hall Live. I'm Sam, and tonight we are talking "
      "about the plan to close Main Street to cars.", 1.1,
      "I have three guests with me, and we will take a caller or two later on. "
      "Dana, you cover transit for the Herald. Can you start by telling us what the council "
      "actually voted on?", at=1.5),
    T("heart", "Sure. On Tuesday the council approved a trial. For one year, the six blocks "
      "between the river and the station will be closed to private cars.", 0.8,
      "Buses, bikes and delivery vans can still use the street in the morning.", gap=0.6),
    T("joe", "Right.", during=0.45),
    T("joe", "And that trial starts in the spring?", gap=0.5),
    T("heart", "In April, if the contracts are signed in time.", gap=0.4),
    T("joe", "Okay. So a one year trial, starting in April, six blocks, no private cars.", 0.9,
      "Maria, you were one of the council members who pushed hardest for this. Why now?", gap=0.7),
    T("slt", "Because the street is not working for anyone. It is loud, it is dangerous, and the "
      "shop owners tell us that nobody wants to stay there.", 1.0,
      "We looked at what happened in other cities, and in almost every case the number of "
      "people walking in went up after the cars were gone.", gap=0.5),
    T("joe", "Mm-hm.", during=0.3),
    T("awb", "Almost every case is doing a lot of work there.", gap=-1.0),
    T("joe", "Angus, you run the hardware shop on the corner of Main and Fifth. Go ahead.", gap=0.3),
    T("awb", "Thanks. Look, I am not against bikes, and I am not against people walking. "
      "But my customers buy paint, timber, and heavy bags of cement. They do not carry those "
      "home on a bicycle.", 1.3,
      "If they cannot park near the shop, they will drive to the big store out by the motorway, "
      "and they will not come back.", gap=0.4),
    T("heart", "Yeah.", during=0.7),
    T("slt", "But there will be loading bays on every side street, and the plan also includes a", gap=-0.2),
    T("joe", "Sorry, Maria, let me stop you there, because I want to get the facts right first.", 0.6,
      "Dana, how many parking spaces are we actually talking about?", gap=-0.3),
    T("heart", "About two hundred on Main Street itself. The city says it will add roughly the same "
      "number in the new garage behind the library, but that garage is not finished yet.", gap=0.5),
    T("awb", "And it will not be finished before April, I can promise you that.", gap=-0.7),
    T("joe", "Is that true, Maria? Will the garage be ready in time?", gap=0.4),
    T("slt", "The garage will open in the summer. For the first few months we are planning a shuttle "
      "bus from the station car park.", 1.4, "It is not perfect. I accept that.", gap=0.5),
    T("joe", "So for the first few months, Angus's customers will have to take a shuttle bus "
      "with their bags of cement.", gap=0.5),
    T("awb", "Exactly. That is exactly my point.", gap=-0.25),
    T("joe", "Let me bring in a caller. We have Ken on the line, who lives right on Main Street.", 0.7,
      "Ken, go ahead, you are on the air.", gap=0.6),
    T("ked", "Hi, thanks for taking my call. I have lived above the bakery for eleven years.", 0.9,
      "Most nights I cannot open my window because of the traffic. So from where I sit, "
      "this trial cannot come soon enough.", gap=1.0),
    T("joe", "Mm-hm.", during=0.6),
    T("joe", "Thank you, Ken. Angus, what do you say to people like Ken, who live on the street "
      "and just want to sleep at night?", gap=0.5),
    T("awb", "I say I understand. I live in town as well, and I know the noise is terrible. "
      "But a quiet street with empty shops is not a win for anybody.", gap=0.6),
    T("ked", "But the shops are empty now.", during=0.62),
    T("joe", "Let me come back to the evidence, because I think our listeners want to know. "
      "Dana, did the shops really do better in those other cities?", gap=0.5),
    T("heart", "It is mixed, honestly. The studies the council used are mostly from large cities "
      "with good trams.", 1.2,
      "In smaller towns the results are less clear. Some shops did better, and some, especially "
      "the ones selling bulky goods, did worse.", gap=0.5),
    T("slt", "Which is why it is a trial and not a permanent change.", gap=-0.9),
    T("joe", "Right.", during=0.5),
    T("joe", "That's a fair point. So let me ask the obvious question. Maria, what happens if the "
      "trial fails? Who decides that it failed, and how?", gap=0.5),
    T("slt", "The council will publish the numbers every three months. Foot traffic, sales, "
      "accidents, and air quality.", 1.0,
      "If the numbers are bad, we open the street again. It is as simple as that.", gap=0.5),
    T("awb", "With respect, nothing at City Hall is as simple as that.", gap=0.3),
    T("heart", "Yeah.", during=0.7),
    T("joe", "Well, we will hold you to it, and we will have you back in the summer to look at "
      "those numbers.", 0.8,
      "Before we finish, I want to read a message from a listener. She says she takes the bus "
      "down Main Street every morning, and it is always late because of the parking.", 0.7,
      "Dana, will the buses be faster?", gap=0.8),
    T("heart", "They should be. In the trial the buses get the whole street, so the city expects "
      "the morning run to be a few minutes quicker.", gap=0.45),
    T("awb", "A few minutes for the buses, and a few customers less for me.", gap=0.6),
    T("joe", "Ken, one last word from you?", gap=0.5),
    T("ked", "Just that I hope people give it a chance. Come down in the summer and see how it feels.",
      gap=0.8),
    T("joe", "Thank you all. Dana, Maria, Angus, and Ken, thanks for joining us.", 1.0,
      "That is all for tonight. City Hall Live will be back next week at the same time. Good night.",
      gap=0.6),
    T("heart", "Thanks, Sam.", gap=0.35),
    T("slt", "Thank you.", gap=-0.5),
]

# A fast X Space: short turns, people talking over each other, a phone caller, backchannels.
# Host Theo (joe), market organiser Priya (heart), councillor Ruth (slt), stallholder
# Callum (awb, the quietest), caller Dev on a phone line (rms_phone).
RAPID = [
    T("joe", "Hey everyone, welcome back to Riverside Live. It's Theo, and tonight it's all about "
      "the night market.", 0.9,
      "Priya runs it, Ruth sits on the council, and Callum sells food there every Friday. "
      "Priya, is it coming back or not?", at=2.5),
    T("heart", "Yeah.", inside=0.55),
    T("heart", "It's coming back. First Friday in May.", gap=0.4),
    T("joe", "For real this time?", gap=0.3),
    T("heart", "For real. The licence was signed this morning.", gap=0.3),
    T("awb", "About time, honestly.", gap=0.4),
    T("joe", "Ruth, what changed?", gap=0.3),
    T("slt", "Two things. We found the money for the toilets and the lighting, and the residents' "
      "group agreed to a trial with a ten o'clock finish instead of midnight, which was the "
      "sticking point for everybody on the lane.", gap=0.5),
    T("joe", "Mm-hm.", inside=0.4),
    T("awb", "Ten o'clock is when the good trade starts, though.", gap=-0.9),
    T("slt", "I know.", gap=0.3),
    T("joe", "Callum, how much of your takings comes after ten?", gap=0.3),
    T("awb", "Half, maybe more. People eat late on a Friday. Families come early, and the young "
      "crowd comes after nine and stays until we pack up the van.", gap=0.5),
    T("heart", "Right.", inside=0.35),
    T("heart", "But the families are the ones who kept the market alive all through the winter.", gap=-1.0),
    T("awb", "Sure, that's fair.", gap=0.3),
    T("joe", "Okay, let's take a call. Dev, you're on.", gap=0.3),
    T("rms_phone", "Hi Theo, thanks. I live on Water Lane, right behind the car park.", 0.6,
      "Last summer the bins overflowed every single week, and the gulls had a party on my roof.", gap=0.8),
    T("joe", "Wow.", inside=0.75),
    T("joe", "That sounds grim.", gap=0.3),
    T("rms_phone", "It was grim.", gap=0.3),
    T("heart", "Dev, that one is on us. This year we have a cleaning crew from nine until midnight, "
      "and twice as many bins along the whole river path.", gap=0.4),
    T("awb", "That's what you said last year as well.", during=0.35),
    T("rms_phone", "Twice as many is still not enough if nobody empties them.", gap=-0.9),
    T("heart", "They get emptied every hour.", gap=0.3),
    T("rms_phone", "Okay. I'll believe it when I see it.", gap=0.3),
    T("joe", "Ruth, can the council check that?", gap=0.3),
    T("slt", "Yes. The licence has conditions, and our officers will walk the site every Friday "
      "night for the first two months of the season.", gap=0.4),
    T("rms_phone", "Sure.", inside=0.5),
    T("joe", "Every Friday?", gap=0.3),
    T("slt", "Every Friday.", gap=0.2),
    T("awb", "Can I say something about the stalls themselves?", gap=0.5),
    T("joe", "Go for it.", gap=0.2),
    T("awb", "The pitch fee went up by forty percent. Forty. For a small food stall that is the "
      "whole profit of one night a month, and it comes straight out of my pocket.", gap=0.3),
    T("joe", "Right.", inside=0.3),
    T("heart", "The fee pays for the toilets and the cleaning crew that Dev just asked us for.", gap=-1.0),
    T("awb", "Then let the council pay for the toilets, they are the ones who wanted them.", gap=-0.9),
    T("slt", "We are paying for half.", gap=0.3),
    T("joe", "Half? I didn't know that.", gap=0.3),
    T("slt", "It was in the report. Nobody reads the reports.", gap=0.3),
    T("joe", "Guilty.", gap=0.3),
    T("heart", "Look, we also added a cheaper pitch for new traders. It's a half-size pitch at the "
      "back, by the river, for a third of the price.", gap=0.4),
    T("awb", "Yeah.", inside=0.45),
    T("joe", "Callum, does that help?", gap=0.3),
    T("awb", "For the new folk, aye. Not for me.", gap=0.4),
    T("joe", "Fair enough. Ruth, what about parking?", gap=0.3),
    T("slt", "The car park stays open, but the top level is for stalls and vans. We are running "
      "an extra bus from the station every twenty minutes until eleven o'clock at night.", gap=0.4),
    T("heart", "Mm-hm.", inside=0.3),
    T("rms_phone", "Until eleven, but the market closes at ten?", gap=-0.9),
    T("slt", "People stay for a drink afterwards.", gap=0.3),
    T("rms_phone", "Right under my window.", gap=0.3),
    T("joe", "Dev, you are not going to let this go.", gap=0.3),
    T("rms_phone", "Not a chance.", gap=0.3),
    T("joe", "Priya, what's new at the market this year?", gap=0.5),
    T("heart", "We have live music on the old bandstand, a kids' corner with games until eight, "
      "and twelve new food stalls, including a Filipino grill and a Georgian bakery.", gap=0.4),
    T("slt", "Wow.", inside=0.5),
    T("awb", "Twelve new food stalls, so twelve more people cooking the same chips as me.", gap=-0.8),
    T("heart", "Nobody cooks chips like you, Callum.", gap=0.3),
    T("awb", "That's true.", gap=0.3),
    T("joe", "Live music though. Ruth, is that allowed after nine?", gap=0.3),
    T("slt", "Acoustic only after nine, and the speakers face the river, not the houses on the lane.", gap=0.4),
    T("rms_phone", "Okay.", inside=0.5),
    T("joe", "Dev, does that work for you?", gap=0.4),
    T("rms_phone", "Acoustic is fine. It was the drums last year that drove us mad. Every Friday, "
      "the same drummer, playing the same song over and over again.", gap=0.4),
    T("joe", "Yeah.", inside=0.6),
    T("heart", "That drummer has been asked to play somewhere else.", gap=-0.9),
    T("joe", "Diplomatically put.", gap=0.3),
    T("awb", "He plays at my cousin's pub now.", gap=0.3),
    T("joe", "Of course he does.", gap=0.2),
    T("slt", "Can I just add one thing about safety? We will have first aid on site and two "
      "marshals at the river steps, because those steps are slippery when it rains.", gap=0.5),
    T("heart", "Right.", inside=0.45),
    T("joe", "Good, because I slipped on them last year.", gap=-0.8),
    T("slt", "You and half the town.", gap=0.3),
    T("joe", "Okay, quick round before we wrap. One word for the first Friday. Priya?", gap=0.4),
    T("heart", "Busy.", gap=0.3),
    T("joe", "Callum?", gap=0.2),
    T("awb", "Hungry.", gap=0.3),
    T("joe", "Ruth?", gap=0.2),
    T("slt", "Tidy.", gap=0.3),
    T("joe", "And Dev?", gap=0.2),
    T("rms_phone", "Quiet, please.", gap=0.4),
    T("joe", "We will see.", 0.6, "So here's the deal. Toilets, lighting, a cleaning crew, a ten "
      "o'clock finish, and we all check in again after two months.", gap=0.3),
    T("awb", "Sure.", inside=0.4),
    T("slt", "Right.", inside=0.8),
    T("awb", "And a proper look at the pitch fees, please.", gap=-0.9),
    T("heart", "We can talk about the fees in June.", gap=0.2),
    T("joe", "The fees, noted. Thanks everyone, see you down at the river on the first Friday in May.", gap=0.3),
    T("heart", "Thanks, Theo.", gap=0.2),
    T("awb", "Cheers.", gap=0.1),
    T("rms_phone", "Bye now.", gap=0.2),
]

# A local radio talk in German about the town library reopening after its renovation. Host
# Anna, library head Bernd, councillor Clara. No numbers anywhere (no digits, no number
# words, no ordinals), so the German WER does not depend on how numbers are written.
GERMAN = [
    T("anna", "Guten Abend und herzlich willkommen zum Stadtgespräch. Heute geht es um unsere "
      "Stadtbibliothek, die nach einer langen Renovierung endlich wieder öffnet.", 0.9,
      "Bei mir im Studio sind Bernd, der die Bibliothek leitet, und Clara aus dem Stadtrat. "
      "Bernd, wie fühlt sich das an, so kurz vor der Eröffnung?", at=0.8),
    T("bernd", "Ehrlich gesagt bin ich ziemlich aufgeregt. Wir haben sehr lange in einem "
      "Ausweichquartier gearbeitet, mit viel weniger Platz und ohne Lesesaal.", 0.8,
      "Jetzt haben wir wieder Tageslicht, neue Regale und endlich einen Aufzug.", gap=0.6),
    T("anna", "Ja.", inside=0.4),
    T("anna", "Und was war in dieser Zeit am schwierigsten?", gap=0.5),
    T("bernd", "Die Leute zu halten. Viele dachten, wir hätten ganz geschlossen, und sind einfach "
      "nicht mehr gekommen.", gap=0.5),
    T("anna", "Clara, der Stadtrat hat lange über die Kosten gestritten. Warum hat es am Ende "
      "doch geklappt?", gap=0.7),
    T("clara", "Weil wir gemerkt haben, dass die Bibliothek viel mehr ist als ein Ort für Bücher. "
      "Hier machen Schüler ihre Hausaufgaben, ältere Menschen lernen den Umgang mit dem "
      "Computer, und Familien kommen am Wochenende zum Vorlesen.", 0.9,
      "So einen Ort gibt es in der Innenstadt sonst kaum noch, und das hat am Ende auch die "
      "Skeptiker überzeugt.", gap=0.5),
    T("bernd", "Genau.", inside=0.6),
    T("anna", "Aber es gab auch Kritik. Manche sagen, das Geld wäre im Schwimmbad besser "
      "aufgehoben gewesen.", gap=0.6),
    T("clara", "Das verstehe ich, und das Schwimmbad ist ja auch nicht vergessen. Wir reden im "
      "Herbst wieder darüber.", gap=0.4),
    T("bernd", "Darf ich da kurz etwas ergänzen?", gap=-0.8),
    T("anna", "Bitte.", gap=0.3),
    T("bernd", "Die Renovierung wurde zu einem großen Teil vom Land bezahlt. Dieses Geld hätten "
      "wir für das Schwimmbad gar nicht bekommen.", gap=0.4),
    T("clara", "Das stimmt, und darauf haben wir im Rat auch oft hingewiesen.", gap=0.5),
    T("anna", "Was ändert sich denn für die Besucher, wenn sie jetzt wiederkommen?", gap=0.6),
    T("bernd", "Eine ganze Menge. Die Öffnungszeiten werden länger, auch am Samstagnachmittag. "
      "Es gibt einen ruhigen Lesesaal im Obergeschoss und unten eine Ecke für Kinder, in "
      "der es auch mal laut sein darf.", 0.8,
      "Und man kann Bücher jetzt rund um die Uhr an einem Automaten zurückgeben.", gap=0.5),
    T("anna", "Toll.", inside=0.5),  # not "Mhm.": espeak-ng spells that out letter by letter
    T("anna", "Klingt gut. Und die Gebühren?", gap=0.4),
    T("bernd", "Für Kinder und Jugendliche bleibt der Ausweis kostenlos.", gap=0.4),
    T("clara", "Und für Menschen mit wenig Einkommen auch, das war uns besonders wichtig.", gap=-0.6),
    T("anna", "Und wenn man nach dem Lesen noch einen Kaffee trinken möchte?", gap=0.6),
    T("bernd", "Dafür suchen wir noch jemanden, der im Foyer ein kleines Café betreibt. Wer "
      "Interesse hat, kann sich gern bei uns melden.", gap=0.4),
    T("clara", "Da hätte ich sogar schon eine Idee, aber die verrate ich noch nicht.", gap=0.5),
    T("anna", "Wir haben auch Nachrichten von Hörerinnen und Hörern bekommen. Eine Frau fragt, ob "
      "es wieder Lesungen geben wird.", gap=0.7),
    T("bernd", "Auf jeden Fall. Schon in der Eröffnungswoche liest eine Autorin aus der Region "
      "aus ihrem neuen Roman.", gap=0.4),
    T("anna", "Schön.", gap=0.3),
    T("clara", "Ich möchte noch sagen, dass die Bibliothek auch Räume für Vereine anbietet. Wer "
      "einen Treffpunkt sucht, kann einfach nachfragen.", gap=0.5),
    T("anna", "Aha.", inside=0.7),
    # Second part: messages from listeners, digital offers, volunteers, accessibility,
    # parking and bicycles, the café. Still no numbers and no abbreviations.
    T("anna", "Während wir hier sprechen, rufen bei uns im Studio ständig Leute an. Ein Hörer aus "
      "der Altstadt möchte wissen, ob man Bücher inzwischen auch ausleihen kann, ohne aus dem "
      "Haus zu gehen.", gap=0.6),
    T("bernd", "Das geht schon seit einer ganzen Weile. Mit dem Bibliotheksausweis kann man digitale "
      "Bücher, Hörbücher und Zeitungen auf das Handy oder den Computer laden.", 0.8,
      "Nach einigen Wochen verschwinden sie von selbst wieder. Man muss also nichts "
      "zurückbringen und zahlt auch nie eine Mahngebühr.", gap=0.5),
    T("clara", "Stimmt.", inside=0.6),
    T("anna", "Und was macht jemand, der sich mit dem Handy nicht so gut auskennt?", gap=0.5),
    T("bernd", "Für den gibt es unsere Computerkurse. Jeden Dienstagvormittag zeigen Ehrenamtliche, "
      "wie man Nachrichten schreibt, Fotos verschickt oder im Internet einen Termin beim Bürgeramt "
      "bekommt.", 0.8,
      "Die Kurse sind fast immer ausgebucht, deshalb suchen wir dringend noch mehr Helferinnen "
      "und Helfer, die ein bisschen Zeit mitbringen.", gap=0.4),
    T("clara", "Und da könnten auch Jugendliche mitmachen. Im Rat gab es schon die Idee, dass "
      "Schüler den älteren Leuten helfen und dafür eine Bescheinigung bekommen.", gap=-0.7),
    T("bernd", "Gern, sehr gern.", gap=0.3),
    T("anna", "Bernd, was muss man denn mitbringen, wenn man sich bei Ihnen ehrenamtlich "
      "engagieren möchte?", gap=0.5),
    T("bernd", "Vor allem Geduld. Man muss kein Experte sein. Wer gern mit Menschen redet und nicht "
      "gleich die Nerven verliert, wenn etwas nicht klappt, ist bei uns genau richtig.", 0.8,
      "Außerdem brauchen wir Leute, die in der Kinderecke vorlesen oder Bücher zu Menschen "
      "bringen, die nicht mehr selbst zu uns kommen können.", gap=0.5),
    T("clara", "Genau.", inside=0.4),
    T("anna", "Eine Hörerin hat uns eben eine Nachricht geschickt. Sie sitzt im Rollstuhl und fragt, "
      "ob sie jetzt ohne fremde Hilfe in jedes Stockwerk kommt.", gap=0.7),
    T("bernd", "Ja, endlich. Das war ein wichtiger Grund für den ganzen Umbau. Der Aufzug fährt vom "
      "Keller bis unters Dach, die Eingangstür öffnet sich von allein, und die Theke hat eine "
      "niedrige Stelle, an der man im Sitzen bedient wird.", 0.9,
      "Für Menschen, die schlecht sehen, gibt es Bücher in großer Schrift und ein Gerät, das "
      "gedruckte Texte laut vorliest.", gap=0.4),
    T("anna", "Wunderbar.", gap=0.3),
    T("clara", "Die Toiletten sind übrigens auch barrierefrei. Darauf haben wir im Bauausschuss "
      "sehr genau geachtet.", gap=0.5),
    T("anna", "Dann kommen wir zu der Frage, die uns heute am häufigsten gestellt wurde: Wo soll "
      "man eigentlich parken?", gap=0.6),
    T("clara", "Ich wusste, dass das kommt.", 0.8,
      "Direkt vor der Bibliothek gibt es nur wenige Parkplätze, und die sind für Menschen mit "
      "Behinderung reserviert. Aber das Parkhaus am Markt ist nur wenige Minuten zu Fuß "
      "entfernt, und abends ist es dort fast immer leer.", gap=0.3),
    T("bernd", "Richtig.", inside=0.6),
    T("anna", "Und wer mit dem Fahrrad kommt?", gap=0.4),
    T("bernd", "Der hat es jetzt viel leichter. Vor dem Eingang stehen neue überdachte "
      "Fahrradständer, und es gibt sogar eine Ladestation für Elektroräder.", gap=0.4),
    T("clara", "Und der Bus hält direkt an der Ecke. Wer kann, sollte das Auto ruhig stehen "
      "lassen.", gap=0.5),
    T("anna", "Zurück zum Café. Clara, Sie haben vorhin eine Idee angedeutet. Verraten Sie uns "
      "jetzt ein bisschen mehr?", gap=0.6),
    T("clara", "Na gut, aber wirklich nur ein bisschen.", 0.7,
      "Eine Bäckerei aus der Nachbarschaft hat Interesse. Die backen jeden Morgen frisch, und "
      "es gäbe auch Kuchen ohne Zucker.", gap=0.4),
    T("bernd", "Davon wusste ich ja noch gar nichts.", gap=0.3),
    T("clara", "Jetzt wissen es alle.", gap=0.3),
    T("anna", "Und ich weiß, wo ich in Zukunft meinen Kaffee trinke.", gap=0.4),
    T("bernd", "Sie sind herzlich eingeladen.", gap=0.3),
    T("anna", "Bernd, zum Schluss: Worauf freuen Sie sich am meisten?", gap=0.6),
    T("bernd", "Auf den Morgen, an dem wir die Türen aufschließen und die Leute wieder "
      "hereinkommen. Darauf haben wir lange gewartet.", gap=0.5),
    T("anna", "Bernd, Clara, vielen Dank für das Gespräch. Das war das Stadtgespräch für heute. "
      "Bis zum nächsten Mal und einen schönen Abend.", gap=0.6),
    T("clara", "Danke schön.", gap=0.3),
    T("bernd", "Tschüss.", gap=0.2),
]

# ---------------------------------------------------------------- helpers


def run(cmd, **kw):
    """Run a command; any failure stops the build with the command shown."""
    try:
        return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    except subprocess.CalledProcessError as e:
        sys.exit(f"command failed ({e.returncode}): {' '.join(map(str, cmd))}\n{e.stderr.decode(errors='replace')}")


def load_16k(path: Path) -> np.ndarray:
    """Any audio file -> float32 mono 16 kHz, resampled by sox (float out, so no dither)."""
    out = run(["sox", str(path), "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", str(SR), "-"]).stdout
    return np.frombuffer(out, dtype="<f4").astype(np.float32)


def write_wav16(path: Path, x: np.ndarray, rate: int = SR):
    """float mono -> 16-bit PCM WAV, plain rounding (deterministic, no dither)."""
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def frame_db(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    f = x[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    return 10 * np.log10(np.mean(f * f, axis=1) + 1e-12)


def loud_frames(x: np.ndarray) -> np.ndarray:
    """Indices of the 10 ms frames that are speech, not silence.

    Threshold: 40 dB under the loudest frame, and for real recordings at least
    8 dB over their noise floor (10th percentile of frame energy), so room
    noise before the first word does not count as speech.
    """
    db = frame_db(x)
    if len(db) == 0:
        sys.exit("empty audio piece")
    thr = max(db.max() - 40.0, np.percentile(db, 10) + 8.0)
    return np.nonzero(db > thr)[0]


def speech_stretches(x: np.ndarray) -> list:
    """(start, end) seconds of the speech inside a trimmed piece: split where it is
    silent (see loud_frames) for at least MIN_REF_PAUSE_S."""
    loud = loud_frames(x)
    min_gap = int(round(MIN_REF_PAUSE_S * SR / FRAME))
    out = [[loud[0], loud[0] + 1]]
    for f in loud[1:]:
        if f - out[-1][1] >= min_gap:
            out.append([f, f + 1])
        else:
            out[-1][1] = f + 1
    # The piece's own edges, not the frame grid, bound the first and last stretch.
    out[0][0], out[-1][1] = 0, len(x) / FRAME
    return [(a * FRAME / SR, b * FRAME / SR) for a, b in out]


def trim(x: np.ndarray) -> np.ndarray:
    """Cut leading/trailing silence (see loud_frames) at frame resolution."""
    loud = loud_frames(x)
    y = x[loud[0] * FRAME: (loud[-1] + 1) * FRAME].copy()
    fade = min(80, len(y) // 4)  # 5 ms fades so cut edges do not click
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    y[:fade] *= ramp
    y[len(y) - fade:] *= ramp[::-1]
    return y


def level(x: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale so the active frames (within 30 dB of the peak frame) hit PIECE_RMS_DBFS + gain."""
    db = frame_db(x)
    active = db[db > db.max() - 30.0]
    rms_db = 10 * np.log10(np.mean(10 ** (active / 10)))
    return (x * 10 ** ((PIECE_RMS_DBFS + gain_db - rms_db) / 20)).astype(np.float32)


# ---------------------------------------------------------------- rendering


class Renderer:
    """Renders text pieces to trimmed 16 kHz audio, caching by voice + text."""

    def __init__(self, cache: Path, joe_model: Path, files: dict, voices: dict = VOICES):
        self.voices = voices
        self.cache = cache
        self.cache.mkdir(parents=True, exist_ok=True)
        self.joe_model = joe_model
        self.files = files
        self._piper = None
        self._hibari = None
        self._memo = {}  # (speaker, text) -> levelled piece, so a script can measure pieces first

    def raw(self, voice: Voice, text: str) -> Path:
        if voice.engine == "file":
            return self.files[text.removeprefix("FILE:")]
        sox = "|" + " ".join(voice.sox) if voice.sox else ""
        key = hashlib.sha256(f"{voice.engine}|{voice.arg}{sox}|{text}".encode()).hexdigest()[:20]
        out = self.cache / f"{voice.name}-{key}.wav"
        if out.exists():
            return out
        tmp = out.with_suffix(".tmp.wav")
        if voice.engine == "piper":
            from piper import PiperVoice, SynthesisConfig

            if self._piper is None:
                self._piper = PiperVoice.load(str(self.joe_model))
            # Zero noise makes piper deterministic (its default samples random noise per run).
            cfg = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
            with wave.open(str(tmp), "wb") as w:
                self._piper.synthesize_wav(text, w, syn_config=cfg)
        elif voice.engine == "hibari":
            from hibari.tts import Hibari

            if self._hibari is None:
                self._hibari = Hibari(voice="heart", threads=1)
            self._hibari.save(text, str(tmp), 1.0, 7)  # fixed seed -> same audio every run
        elif voice.engine == "flite":
            run(["flite", "-voice", voice.arg, "-t", text, "-o", str(tmp)])
        elif voice.engine == "festival":
            run(["text2wave", "-eval", voice.arg, "-o", str(tmp)], input=text.encode())
        elif voice.engine == "espeak":
            run(["espeak-ng", "-v", voice.arg, "-w", str(tmp), text])
        else:
            sys.exit(f"unknown engine {voice.engine}")
        if voice.sox:
            shaped = out.with_suffix(".sox.wav")
            run(["sox", "-D", str(tmp), str(shaped), *voice.sox])  # -D: no dither, same bytes every build
            shaped.rename(tmp)
        tmp.rename(out)
        return out

    def piece(self, speaker: str, text: str) -> np.ndarray:
        if (speaker, text) not in self._memo:
            voice = self.voices[speaker]
            x = load_16k(self.raw(voice, text))
            if voice.phone:
                x = phone_line(x, text)
            self._memo[speaker, text] = level(trim(x), voice.gain_db)
        return self._memo[speaker, text]


PHONE_NOISE_DB = -42.0  # line hiss relative to the speech's active RMS


def phone_line(x: np.ndarray, text: str) -> np.ndarray:
    """A caller on a phone line: band-limit to 300-3400 Hz at 8 kHz, add line hiss (seeded
    by the text), mu-law encode and decode (G.711), and resample back to 16 kHz."""
    f32 = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1"]
    narrow = run(["sox", "-D", *f32, "-r", str(SR), "-", *f32, "-r", "8000", "-",
                  "sinc", "300-3400", "rate", "8000"], input=x.astype("<f4").tobytes()).stdout
    y = np.frombuffer(narrow, dtype="<f4").astype(np.float64)
    y *= 10 ** (-18.0 / 20) / np.sqrt(np.mean(y**2) + 1e-12)  # speech around -18 dBFS on the line
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    rng = np.random.Generator(np.random.PCG64(seed))
    hiss = np.convolve(rng.standard_normal(len(y)), np.ones(3) / 3, mode="same")
    hiss *= 10 ** ((-18.0 + PHONE_NOISE_DB) / 20) / np.sqrt(np.mean(hiss**2))
    y = np.clip(y + hiss, -1.0, 1.0).astype("<f4")
    ulaw = run(["sox", "-D", *f32, "-r", "8000", "-", "-t", "raw", "-e", "mu-law", "-b", "8", "-c", "1",
                "-r", "8000", "-"], input=y.tobytes()).stdout
    back = run(["sox", "-D", "-t", "raw", "-e", "mu-law", "-b", "8", "-c", "1", "-r", "8000", "-",
                *f32, "-r", str(SR), "-"], input=ulaw).stdout
    return np.frombuffer(back, dtype="<f4").astype(np.float32)


# ---------------------------------------------------------------- mixing


INSIDE_MARGIN_S = 0.2  # a backchannel placed with inside= keeps this far from its host stretch's edges


def inside_start(t: float, dur: float, stretches: list, strict: bool = True) -> float | None:
    """Start time for a piece of length dur centred as near t as possible, wholly inside one
    of the stretches with INSIDE_MARGIN_S to spare at both ends."""
    best = None
    for a, b in stretches:
        lo, hi = a + INSIDE_MARGIN_S, b - INSIDE_MARGIN_S - dur
        if hi < lo:
            continue
        s = min(max(t - dur / 2, lo), hi)
        if best is None or abs(s - (t - dur / 2)) < abs(best - (t - dur / 2)):
            best = s
    if best is None and strict:
        sys.exit(f"no stretch long enough to hold a {dur:.2f} s backchannel near {t:.2f} s")
    return best


def mix(script, renderer: Renderer, transcripts: dict, tail: float = 1.0, bed=None, strict: bool = True):
    """Place every turn on a timeline; returns (audio, turns with piece times filled in).
    bed: optional background (music) looped under the whole mix. strict=False drops an
    inside= backchannel that finds no stretch to fit in (instead of stopping)."""
    placed = []  # (start sample, audio)
    floor = None  # (start, end) of the turn that holds the floor
    floor_speech = []  # speech stretches of that turn
    for turn in script:
        audios = []
        for part in turn.parts:
            if isinstance(part, (int, float)):
                audios.append(float(part))
            else:
                audios.append((part, renderer.piece(turn.speaker, part)))
        if turn.at is not None:
            t = turn.at
        elif turn.during is not None:
            t = floor[0] + turn.during * (floor[1] - floor[0])
        elif turn.inside is not None:
            if len(audios) != 1:
                sys.exit("an inside= turn is one piece")
            t = inside_start(floor[0] + turn.inside * (floor[1] - floor[0]), len(audios[0][1]) / SR,
                             floor_speech, strict)
            if t is None:
                turn.pieces = []
                continue
        else:
            t = floor[1] + turn.gap
        start = t
        turn.pieces = []
        for a in audios:
            if isinstance(a, float):
                t += a
                continue
            text, audio = a
            s = int(round(t * SR))
            placed.append((s, audio))
            t = (s + len(audio)) / SR
            speech = [(s / SR + a, s / SR + b) for a, b in speech_stretches(audio)]
            turn.pieces.append((s / SR, t, transcripts.get(text, text), speech))
        if turn.during is None and turn.inside is None:
            floor = (start, t)
            floor_speech = [st for p in turn.pieces for st in p[3]]
    total = max(s + len(a) for s, a in placed) + int(tail * SR)
    out = np.zeros(total, dtype=np.float64)
    for s, a in placed:
        out[s: s + len(a)] += a
    rng = np.random.Generator(np.random.PCG64(NOISE_SEED))
    # White noise through an 8-tap moving average: a soft room-like floor rather than hiss.
    noise = np.convolve(rng.standard_normal(total), np.ones(8) / 8, mode="same")
    noise *= 10 ** (NOISE_FLOOR_DBFS / 20) / np.sqrt(np.mean(noise**2))
    out += noise
    if bed is not None:
        b = np.resize(bed, total).astype(np.float64)  # repeats the loop to the mix's length
        fade = min(2 * SR, total // 4)
        b[:fade] *= np.linspace(0.0, 1.0, fade)
        b[total - fade:] *= np.linspace(1.0, 0.0, fade)
        out += b
    peak = np.max(np.abs(out))
    if peak > 0.97:
        out *= 0.97 / peak
    return out.astype(np.float32), [t for t in script if t.pieces]


# ---------------------------------------------------------------- sources

# SHA-256 of every outside file used; a changed source stops the build.
SOURCE_SHA256 = {
    "jfk.wav": "59dfb9a4acb36fe2a2affc14bacbee2920ff435cb13cc314a08c13f66ba7860e",
    "sample.wav": "c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e",
    "sample.rttm": "d78fe62c69d8e6dcbb42c26adfce83faccb374c5a1e6d987fe37f85f1c173c87",
    "sample.stm": "f861f3004927e1c4429199f9695bfd252def75d7d5e4bdf735d3d85fd4a667f7",
    "sense_and_sensibility_01_austen_64kb-0870.wav": "b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c",
    "sense_and_sensibility_01_austen_64kb-0880.wav": "fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414",
    "sense_and_sensibility_01_austen_64kb-0890.wav": "5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10",
    "sense_and_sensibility_01_austen_64kb-0920.wav": "40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59",
    "sense_and_sensibility_01_austen_64kb-0930.wav": "954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7",
    "transcription": "4cc29e04a6dcd29242893b3ee20470e50b6ace45f4387bb619e5218145c66f99",
    "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
}

# What the real recordings say. JFK: whisper.cpp's own expected transcript
# (tests/parakeet-expected-jfk-output.txt). LibriVox: the words of
# pocketsphinx's `transcription` file (checked below), cased and punctuated.
REAL_TEXT = {
    "jfk": "And so, my fellow Americans, ask not what your country can do for you, "
           "ask what you can do for your country.",
    "0870": "And Mister John Dashwood had then leisure to consider how much there might be "
            "prudently in his power to do for them.",
    "0880": "He was not an ill disposed young man,",
    "0890": "unless to be rather cold hearted and rather selfish is to be ill disposed.",
    "0920": "Had he married a more a amiable woman, he might have been made still more "
            "respectable than he was.",
    "0930": "He might even have been made amiable himself.",
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checked(path: Path) -> Path:
    if not path.is_file():
        sys.exit(f"missing source file {path}")
    want = SOURCE_SHA256[path.name]
    got = sha256(path)
    if got != want:
        sys.exit(f"{path}: sha256 {got}, expected {want}")
    return path


def words(text: str) -> list:
    return "".join(c if c.isalnum() or c == "'" else " " for c in text.lower()).split()


def librivox_sources(folder: Path) -> dict:
    """id -> wav path, after checking our cased texts against the official transcription."""
    official = {}
    for line in checked(folder / "transcription").read_text().splitlines():
        body, _, fid = line.rpartition("(")
        official[fid.strip(" )")[-4:]] = body.replace("<s>", "").replace("</s>", "").split()
    files = {}
    for key in ("0870", "0880", "0890", "0920", "0930"):
        if words(REAL_TEXT[key]) != official[key]:
            sys.exit(f"LibriVox {key}: reference text does not match the transcription file")
        files[key] = checked(folder / f"sense_and_sensibility_01_austen_64kb-{key}.wav")
    return files


# ---------------------------------------------------------------- outputs


def fmt(t: float) -> str:
    return f"{t:.3f}"


def write_refs(out: Path, stem: str, turns):
    """RTTM (one line per stretch of speech), ref.json (turns with pieces), ref.txt (pieces in time order)."""
    pieces = sorted((p[0], p[1], t.speaker, p[2]) for t in turns for p in t.pieces)
    stretches = sorted((a, b, t.speaker) for t in turns for p in t.pieces for a, b in p[3])
    with open(out / f"{stem}.rttm", "w") as f:
        for s, e, spk in stretches:
            f.write(f"SPEAKER {stem} 1 {fmt(s)} {fmt(e - s)} <NA> <NA> {spk} <NA> <NA>\n")
    ref = []
    for t in sorted(turns, key=lambda t: t.pieces[0][0]):
        ref.append({
            "speaker": t.speaker,
            "start": round(t.pieces[0][0], 3),
            "end": round(t.pieces[-1][1], 3),
            "text": " ".join(p[2] for p in t.pieces),
            "pieces": [{"start": round(s, 3), "end": round(e, 3), "text": x,
                        "speech": [[round(a, 3), round(b, 3)] for a, b in sp]} for s, e, x, sp in t.pieces],
        })
    (out / f"{stem}.ref.json").write_text(json.dumps(ref, indent=1) + "\n")
    (out / f"{stem}.ref.txt").write_text("".join(p[3] + "\n" for p in pieces))


def encode(src: Path, dst: Path, *codec):
    # bitexact: no encoder version strings, so re-runs give identical bytes
    run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(src), *codec,
         "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(dst)])


M4A = ["-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "2"]
FLAC = ["-c:a", "flac", "-compression_level", "8", "-ar", str(SR), "-ac", "1", "-sample_fmt", "s16"]


def build_conversation(out: Path, work: Path, stem: str, script, renderer, texts, lossless: str | None):
    """stem.m4a and its refs in out; lossless: "wav" (the mix itself in out), "flac" (a FLAC copy
    in out) or None (no lossless file in out: the wav stays in work)."""
    audio, turns = mix(script, renderer, texts)
    wav = out / f"{stem}.wav" if lossless == "wav" else work / f"{stem}.wav"
    write_wav16(wav, audio)
    if lossless == "flac":
        encode(wav, out / f"{stem}.flac", *FLAC)
    encode(wav, out / f"{stem}.m4a", *M4A)
    write_refs(out, stem, turns)
    print(f"{stem}: {len(audio) / SR:.1f} s, {len(turns)} turns")


def build_pyannote(out: Path, folder: Path):
    """Copy the pyannote.audio sample; turn its STM into ref.json/ref.txt with RTTM labels."""
    shutil.copyfile(checked(folder / "sample.wav"), out / "pyannote-sample.wav")
    shutil.copyfile(checked(folder / "sample.rttm"), out / "pyannote-sample.rttm")
    rttm = []
    for line in (folder / "sample.rttm").read_text().split("\n"):
        if line.strip():
            f = line.split()
            rttm.append((float(f[3]), float(f[3]) + float(f[4]), f[7]))
    stm = []
    for line in checked(folder / "sample.stm").read_text().split("\n"):
        if line.strip():
            f = line.split(maxsplit=5)
            stm.append((f[2], float(f[3]), float(f[4]), f[5].strip()))
    # STM names people (Diane, Sheila), RTTM numbers them: map by overlapping time.
    label = {}
    for name in sorted({s[0] for s in stm}):
        overlap = {}
        for _, s, e, _ in (x for x in stm if x[0] == name):
            for rs, re_, lab in rttm:
                overlap[lab] = overlap.get(lab, 0.0) + max(0.0, min(e, re_) - max(s, rs))
        label[name] = max(overlap, key=overlap.get)
    if len(set(label.values())) != len(label):
        sys.exit(f"pyannote sample: STM speakers do not map one-to-one onto RTTM labels: {label}")
    ref = [{"speaker": label[n], "name": n, "start": s, "end": e, "text": x} for n, s, e, x in stm]
    (out / "pyannote-sample.ref.json").write_text(json.dumps(ref, indent=1) + "\n")
    (out / "pyannote-sample.ref.txt").write_text("".join(x + "\n" for _, _, _, x in stm))
    print(f"pyannote-sample: speakers {label}")


# C major-ish progression, two seconds a chord; pluck and sine give a piano/organ-like sound.
CHORDS = [("C3", "E4", "G4", "C5"), ("A2", "E4", "A4", "C5"), ("F2", "F4", "A4", "C5"),
          ("G2", "D4", "G4", "B4"), ("C3", "E4", "G4", "C5")]


def build_silence_music(out: Path, work: Path):
    """20 s of digital silence, then 10 s of chords: speech-free input for VAD tests."""
    out_fmt = ["-r", str(SR), "-c", "1", "-b", "16", "-e", "signed-integer"]
    parts = [work / "silence.wav"]
    run(["sox", "-R", "-D", "-n", *out_fmt, str(parts[0]), "trim", "0", "20"])
    for i, notes in enumerate(CHORDS):
        p = work / f"chord{i}.wav"
        synth = ["synth", "2"]
        for n in notes:
            synth += ["pluck", n]
        # one channel per note from the null input, mixed down to mono
        # (sox's pluck only runs at 44.1-48 kHz, hence synth at 48 kHz and rate down)
        run(["sox", "-R", "-D", "-r", "48000", "-c", str(len(notes)), "-n", *out_fmt, str(p), *synth,
             "remix", "-", "fade", "q", "0.01", "2", "0.4", "gain", "-n", "-6", "rate", str(SR)])
        parts.append(p)
    run(["sox", "-R", "-D", *map(str, parts), "-r", str(SR), "-c", "1", "-b", "16",
         str(out / "silence-music.flac")])
    (out / "silence-music.ref.json").write_text("[]\n")
    print("silence-music: 30.0 s")


# The music bed's loudest 400 ms (a chord's attack) sits at this level: under the quietest
# voice's active RMS (-27.5 dBFS) everywhere; its long-term RMS is about 5.5 dB lower.
BED_MAX_DBFS = -30.0
RAPID_M4A = ["-c:a", "aac", "-b:a", "32k", "-ar", "24000", "-ac", "1"]  # low-bitrate Space copy


def music_bed(work: Path) -> np.ndarray:
    """The silence-music chords (sox pluck), 2 s each, as one 10 s loop at BED_MAX_DBFS."""
    out_fmt = ["-r", str(SR), "-c", "1", "-b", "16", "-e", "signed-integer"]
    parts = []
    for i, notes in enumerate(CHORDS):
        p = work / f"bed-chord{i}.wav"
        synth = ["synth", "2"]
        for n in notes:
            synth += ["pluck", n]
        run(["sox", "-R", "-D", "-r", "48000", "-c", str(len(notes)), "-n", *out_fmt, str(p), *synth,
             "remix", "-", "fade", "q", "0.01", "2", "0.4", "gain", "-n", "-6", "rate", str(SR)])
        parts.append(load_16k(p))
    loop = np.concatenate(parts).astype(np.float64)
    win = int(0.4 * SR)
    n = len(loop) // win
    loudest = np.sqrt(np.max(np.mean(loop[: n * win].reshape(n, win) ** 2, axis=1)))
    loop *= 10 ** (BED_MAX_DBFS / 20) / loudest
    return loop.astype(np.float32)


def build_rapid(out: Path, work: Path, renderer: Renderer):
    """Fast 5-voice Space with a phone caller and a music bed, shipped as 32 kb/s mono AAC only."""
    audio, turns = mix(RAPID, renderer, {}, bed=music_bed(work))
    wav = work / "rapid.wav"
    write_wav16(wav, audio)
    encode(wav, out / "rapid.m4a", *RAPID_M4A)
    write_refs(out, "rapid", turns)
    print(f"rapid: {len(audio) / SR:.1f} s, {len(turns)} script turns")


def build_german(out: Path, work: Path):
    """The German conversation (espeak-ng voices): german.m4a only, the lossless wav stays in work."""
    build_conversation(out, work, "german", GERMAN, Renderer(work / "tts", None, {}, GERMAN_VOICES), {}, None)


# ---------------------------------------------------------------- the long sample
#
# Over an hour of a Q&A Space ("Debian Office Hours"), built by scripts/make-samples --long
# into ~/.cache/spacescribe/long-sample (too big for git). The words come from two texts
# that Debian packages ship: the Debian FAQ (debian-faq, read by TTS voices: the host asks
# each question, a guest answers, others add paragraphs, cut in, or say "Mm-hm") and the
# Asterisk phone-system prompts (asterisk-core-sounds-en-wav, a real recorded voice,
# Allison Smith, with their official transcripts), played in short segments between
# questions. Every FAQ sentence and every prompt is used at most once.

LONG_VOICES = {
    "joe": Voice("joe", "piper", gain_db=1.0),
    "heart": Voice("heart", "hibari", gain_db=-1.0),
    "slt": Voice("slt", "flite", "slt", gain_db=0.0),
    "awb": Voice("awb", "flite", "awb", gain_db=-3.0),
    "allison": Voice("allison", "file", gain_db=-2.0),
}
LONG_TARGET = {"joe": 0.45, "heart": 0.22, "slt": 0.15, "awb": 0.10, "allison": 0.08}
LONG_NAMES = {"heart": "Dana", "slt": "Maria", "awb": "Angus"}
LONG_MIN_S = 3660.0  # stop adding questions once the script reaches this length
LONG_SEED = 20261202
FAQ_GZ = Path("/usr/share/doc/debian/FAQ/debian-faq.en.txt.gz")
ALLISON_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ALLISON_TXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
LONG_SOURCE_SHA256 = {
    "debian-faq.en.txt.gz": "de9f4bac88027769719751d6093452d457baf1cba59b627fb868d3725d48cca0",  # debian-faq 11.1
    "core-sounds-en.txt.gz": "436538195b7c7361bd227036686f1a4039f694648c76573bdaca956655d34450",  # asterisk-core-sounds-en 1.6.1
}
# SHA-256 over "name sha256\n" of every Allison prompt used, in order (asterisk-core-sounds-en-wav 1.6.1-1).
ALLISON_MANIFEST_SHA256 = "e6d3dde6f293061a6a590ef32396df9acadfeb8f14d4ef3d286732a9382d2e91"
BACKCHANNELS = ["Mm-hm.", "Right.", "Yeah.", "Sure.", "Okay.", "Wow."]
SPEECH_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.;:'?!-")


def long_checked(path: Path) -> Path:
    if not path.is_file():
        sys.exit(f"missing {path} (apt-get install debian-faq asterisk-core-sounds-en asterisk-core-sounds-en-wav)")
    got = sha256(path)
    if got != LONG_SOURCE_SHA256[path.name]:
        sys.exit(f"{path}: sha256 {got}, expected {LONG_SOURCE_SHA256[path.name]}")
    return path


def speakable(sentence: str) -> str | None:
    """A FAQ sentence cleaned for reading aloud, or None when it is not fit to read
    (URLs, paths, commands, cross references, too short or too long)."""
    import re

    x = re.sub(r"\s*\([^()]*(?:http|/|Section|@)[^()]*\)", "", sentence)  # references, links
    x = x.replace("GNU/Linux", "GNU Linux").replace("GNU/kFreeBSD", "GNU kFreeBSD").replace("GNU/Hurd", "GNU Hurd")
    x = x.replace("and/or", "and or").replace("&", "and").replace("%", " percent")
    x = x.replace("\u201c", "").replace("\u201d", "").replace("\u2019", "'").replace('"', "")
    x = x.replace("(", ", ").replace(")", ",")
    for a, b in (("e.g.", "for example"), ("i.e.", "that is"), ("etc.", "and so on"), ("vs.", "versus")):
        x = x.replace(a, b)
    return fit_to_read(x, "Section", SPEECH_OK, 60)


def fit_to_read(x: str, cross_reference: str, ok_chars: set, max_words: int) -> str | None:
    """What both FAQ cleaners end with: spaces and commas tidied, then None unless the
    sentence can be read aloud - no cross reference or link left, only ok_chars, 4 to
    max_words words, a capital first and an end mark last."""
    import re

    x = re.sub(r"\s+([,.;:?!])", r"\1", " ".join(x.split()))
    x = re.sub(r",+", ",", x).replace(",.", ".").replace(",?", "?")
    if cross_reference in x or "http" in x or not set(x) <= ok_chars:
        return None
    n = len(x.split())
    if n < 4 or n > max_words or not x[0].isupper() or x[-1] not in ".?!":
        return None
    return x


def faq_questions() -> list:
    """[(number, question, [paragraph, ...])] where a paragraph is a list of speakable sentences."""
    import gzip
    import re

    text = gzip.decompress(long_checked(FAQ_GZ).read_bytes()).decode().replace("\u00a0", " ")
    out = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.split("\n")
        head = re.match(r"^(\d+\.\d+)\. (.*)$", lines[0])
        if head:
            q = " ".join([head.group(2)] + [l.strip() for l in lines[1:]])
            out.append((head.group(1), q, []))
            continue
        if not out or not block.startswith("    "):
            continue
        para = " ".join(l.strip().removeprefix("* ") for l in lines)
        sentences = [speakable(x) for x in re.split(r"(?<=[.!?])\s+(?=[A-Z])", para)]
        sentences = [x for x in sentences if x]
        if sentences:
            out[-1][2].append(sentences)
    return [(n, q.strip(), paras) for n, q, paras in out if speakable(q.strip()) and paras]


def allison_prompts() -> list:
    """[(file id, transcript)] of the longer spoken prompts (five words or more, no tones or
    keypad symbols), in the order of the official transcript file."""
    import gzip

    out = []
    for line in gzip.decompress(long_checked(ALLISON_TXT).read_bytes()).decode().splitlines():
        name, sep, text = line.partition(": ")
        if not sep or line.startswith(";"):
            continue
        text = " ".join(text.split())
        if len(text.split()) < 5 or not set(text) <= SPEECH_OK or "..." in text:
            continue
        if (ALLISON_DIR / f"{name}.wav").is_file():
            out.append((name, text))
    return out


@dataclass
class LongSpec:
    """What a long Q&A sample is made of (see `long_script`)."""
    target: dict  # speaker -> share of the talk to aim for
    host: str  # asks the questions and nods along
    guests: list  # answer them
    questions: list  # [(number, question, [paragraph: [sentence, ...]])], in order
    ask: object  # (number, answerer, question) -> the host's line
    backchannels: list
    min_s: float  # stop adding questions once the script is this long
    seed: int
    prompts: list = field(default_factory=list)  # Allison's [(file id, text)], if she is in


def english_long_spec() -> LongSpec:
    return LongSpec(
        target=LONG_TARGET, host="joe", guests=["heart", "slt", "awb"], questions=faq_questions(),
        ask=lambda number, who, q: f"Question {number}. {LONG_NAMES[who]}, {q[0].lower()}{q[1:]}",
        backchannels=BACKCHANNELS, min_s=LONG_MIN_S, seed=LONG_SEED, prompts=allison_prompts())


def long_script(renderer: Renderer, spec: LongSpec) -> list:
    """Q&A turns until the script is spec.min_s long; who reads each paragraph is the speaker
    furthest below their target share so far (with a little seeded randomness)."""
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    talk = {k: 0.0 for k in spec.target}
    clock = 0.0
    prompts = spec.prompts
    host, guests = spec.host, spec.guests
    script = []

    def dur(speaker, text):
        return len(renderer.piece(speaker, text)) / SR

    def add(turn, length, pauses):
        nonlocal clock
        script.append(turn)
        talk[turn.speaker] += length
        if turn.inside is None and turn.during is None:
            clock += length + pauses + max(turn.gap, 0.0)

    def deficit(k):
        total = sum(talk.values()) or 1.0
        return spec.target[k] - talk[k] / total

    def parts_of(speaker, sentences):
        """Sentences -> pieces of one to three sentences with pauses of 0.5-1.2 s between."""
        parts, lengths, pauses, i = [], 0.0, 0.0, 0
        while i < len(sentences):
            k = int(rng.integers(1, 4))
            text = " ".join(sentences[i: i + k])
            i += k
            if parts:
                p = round(float(rng.uniform(0.5, 1.2)), 2)
                parts.append(p)
                pauses += p
            parts.append(text)
            lengths += dur(speaker, text)
        return parts, lengths, pauses

    first = True
    for number, question, paras in spec.questions:
        if clock >= spec.min_s:
            break
        answerer = max(guests, key=lambda k: deficit(k) + 0.05 * rng.random())
        q = spec.ask(number, answerer, question)
        kw = {"at": 3.0} if first else {"gap": round(float(rng.uniform(0.5, 1.2)), 2)}
        first = False
        floor_turn = T(host, q, **kw)
        add(floor_turn, dur(host, q), 0.0)
        speaker = answerer
        for j, sentences in enumerate(paras):
            if j > 0:
                pool = [host, answerer] + [g for g in guests if g != answerer and rng.random() < 0.3]
                speaker_next = max(pool, key=lambda k: deficit(k) + 0.03 * rng.random())
            else:
                speaker_next = answerer
            parts, length, pauses = parts_of(speaker_next, sentences)
            if j > 0 and speaker_next == speaker:
                # the same speaker goes on: one more piece of their turn
                p = round(float(rng.uniform(0.6, 1.5)), 2)
                floor_turn.parts += [p] + parts
                talk[speaker] += length
                clock += length + pauses + p
                continue
            last_piece = floor_turn.parts[-1]
            cut_in = (j > 0 and rng.random() < 0.15 and dur(floor_turn.speaker, last_piece) > 3.0)
            gap = -round(float(rng.uniform(0.8, 1.2)), 2) if cut_in else round(float(rng.uniform(0.2, 1.0)), 2)
            floor_turn = T(speaker_next, *parts, gap=gap)
            add(floor_turn, length, pauses)
            speaker = speaker_next
            # a listener nods along now and then
            if length > 8.0 and rng.random() < 0.35:
                who = host if speaker != host else answerer if answerer != host else guests[0]
                bc = spec.backchannels[int(rng.integers(len(spec.backchannels)))]
                add(T(who, bc, inside=round(float(rng.uniform(0.25, 0.75)), 2)), dur(who, bc), 0.0)
        # Allison's prompts when she is furthest behind her share
        if "allison" in spec.target and deficit("allison") > 0.02 and prompts:
            intro = f"Before question {number} ends, Allison has a few lines from the phone system."
            add(T(host, intro, gap=0.6), dur(host, intro), 0.0)
            k = int(rng.integers(2, 6))
            take, prompts = prompts[:k], prompts[k:]
            parts, length, pauses = [], 0.0, 0.0
            for name, _ in take:
                if parts:
                    p = round(float(rng.uniform(0.5, 1.0)), 2)
                    parts.append(p)
                    pauses += p
                parts.append(f"FILE:{name}")
                length += dur("allison", f"FILE:{name}")
            floor_turn = T("allison", *parts, gap=round(float(rng.uniform(0.4, 0.9)), 2))
            add(floor_turn, length, pauses)
    return script


# ---------------------------------------------------------------- the long German sample
#
# Half an hour of the same kind of Q&A in German, built by scripts/make-samples --long-de into
# ~/.cache/spacescribe/long-de: the German Debian FAQ (debian-faq-de, HTML) read by the German
# sample's three espeak-ng voices, the host asking, the guests answering. The shipped German
# sample has 974 words, too few to tell two engines apart by two points of WER (either moves by
# that much when a window falls elsewhere); this one has several times as many.

FAQ_DE_DIR = Path("/usr/share/doc/debian/FAQ/de")
FAQ_DE_CHAPTERS = ["basic-defs", "getting-debian", "choosing", "compatibility", "software", "ftparchives",
                   "pkg-basics", "pkgtools", "uptodate", "kernel", "customizing", "support", "contributing",
                   "redistributing", "nextrelease", "faqinfo"]
# SHA-256 over the chapters' files in this order (debian-faq-de 11.1).
FAQ_DE_SHA256 = "7d4602d4111c1af01092bde17110ed300215d84076eb9d54033be11e1898d4d3"
LONG_DE_TARGET = {"anna": 0.40, "bernd": 0.35, "clara": 0.25}
LONG_DE_NAMES = {"bernd": "Bernd", "clara": "Clara"}
LONG_DE_MIN_S = 1800.0
LONG_DE_BACKCHANNELS = ["Ja.", "Genau.", "Richtig.", "Stimmt.", "Aha."]
SPEECH_OK_DE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüÄÖÜß ,.;:'?!-")
ABBREVIATIONS_DE = (("z. B.", "zum Beispiel"), ("z.B.", "zum Beispiel"), ("d. h.", "das heißt"),
                    ("d.h.", "das heißt"), ("u. a.", "unter anderem"), ("bzw.", "beziehungsweise"),
                    ("usw.", "und so weiter"), ("ggf.", "gegebenenfalls"), ("evtl.", "eventuell"),
                    ("ca.", "circa"), ("etc.", "und so weiter"), ("s. u.", "siehe unten"))


def speakable_de(sentence: str) -> str | None:
    """A German FAQ sentence cleaned for reading aloud, or None (numbers, links, paths,
    commands, cross references, too short or too long)."""
    import re

    x = re.sub(r"\s*\([^()]*(?:http|/|Abschnitt|@)[^()]*\)", "", sentence)
    for a, b in (("GNU/Linux", "GNU Linux"), ("GNU/kFreeBSD", "GNU kFreeBSD"), ("GNU/Hurd", "GNU Hurd"),
                 ("und/oder", "und oder"), ("&", "und"), ("%", " Prozent")) + ABBREVIATIONS_DE:
        x = x.replace(a, b)
    for q in "\u201e\u201c\u201d\u201a\u2018\"":
        x = x.replace(q, "")
    x = x.replace("\u2019", "'").replace("\u2013", "-").replace("(", ", ").replace(")", ",")
    # A parenthesis that opened the sentence or followed an exclamation leaves a comma behind.
    x = re.sub(r"!\s*,", ",", x).strip().lstrip(", ")
    return fit_to_read(x, "Abschnitt", SPEECH_OK_DE, 50)


def faq_de_questions() -> list:
    """[(number, question, [paragraph, ...])] of the German FAQ, chapter by chapter: each
    question a heading that ends in a question mark, a paragraph a list of speakable sentences."""
    import html
    import re
    from html.parser import HTMLParser

    class Blocks(HTMLParser):
        """(kind, text) of every h2 heading and p paragraph, in order."""
        def __init__(self):
            super().__init__()
            self.out, self.kind, self.text = [], None, []

        def handle_starttag(self, tag, attrs):
            if tag in ("h2", "p"):
                self.kind, self.text = tag, []

        def handle_endtag(self, tag):
            if tag == self.kind:
                self.out.append((tag, " ".join("".join(self.text).split())))
                self.kind = None

        def handle_data(self, data):
            if self.kind:
                self.text.append(data)

    paths = [FAQ_DE_DIR / f"{chapter}.de.html" for chapter in FAQ_DE_CHAPTERS]
    for path in paths:
        if not path.is_file():
            sys.exit(f"missing {path} (apt-get install debian-faq-de)")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()
    if digest != FAQ_DE_SHA256:
        sys.exit(f"{FAQ_DE_DIR}: sha256 {digest} over the chapters, expected {FAQ_DE_SHA256}")
    out = []
    for path in paths:
        parser = Blocks()
        parser.feed(html.unescape(path.read_text(encoding="utf-8")))
        for kind, text in parser.out:
            head = re.match(r"^(\d+\.\d+)\. (.*\?)$", text) if kind == "h2" else None
            if head:
                out.append((head.group(1), head.group(2), []))
            elif kind == "p" and out:
                sentences = [speakable_de(x) for x in re.split(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ])", text)]
                sentences = [x for x in sentences if x]
                if sentences:
                    out[-1][2].append(sentences)
    return [(n, speakable_de(q), paras) for n, q, paras in out if speakable_de(q) and paras]


def german_long_spec() -> LongSpec:
    return LongSpec(
        target=LONG_DE_TARGET, host="anna", guests=["bernd", "clara"], questions=faq_de_questions(),
        ask=lambda number, who, q: f"{LONG_DE_NAMES[who]}, {q}", backchannels=LONG_DE_BACKCHANNELS,
        min_s=LONG_DE_MIN_S, seed=LONG_SEED)


def build_long_de(out: Path, work: Path):
    """The long German sample: long-de.m4a (96 kb/s AAC) and its references."""
    import time

    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    renderer = Renderer(work / "tts", None, {}, GERMAN_VOICES)
    script = long_script(renderer, german_long_spec())
    audio, turns = mix(script, renderer, {}, strict=False)
    wav = work / "long-de.wav"
    write_wav16(wav, audio)
    encode(wav, out / "long-de.m4a", *M4A)
    write_refs(out, "long-de", turns)
    words = sum(len(p[2].split()) for t in turns for p in t.pieces)
    print(f"long-de: {len(audio) / SR:.1f} s, {len(turns)} script turns, {words} words, built in {time.time() - t0:.0f} s")


def build_long(out: Path, work: Path, joe_model: Path):
    """The hour-long sample: long.m4a (96 kb/s AAC, like a Space download) and its references."""
    import time

    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    prompts = allison_prompts()
    files = {name: ALLISON_DIR / f"{name}.wav" for name, _ in prompts}
    texts = {f"FILE:{name}": text for name, text in prompts}
    renderer = Renderer(work / "tts", joe_model, files, LONG_VOICES)
    script = long_script(renderer, english_long_spec())
    used = [p.removeprefix("FILE:") for t in script for p in t.parts if isinstance(p, str) and p.startswith("FILE:")]
    manifest = "".join(f"{n} {sha256(files[n])}\\n" for n in used)
    digest = hashlib.sha256(manifest.encode()).hexdigest()
    if ALLISON_MANIFEST_SHA256 is not None and digest != ALLISON_MANIFEST_SHA256:
        sys.exit(f"Allison prompts: manifest sha256 {digest}, expected {ALLISON_MANIFEST_SHA256}")
    audio, turns = mix(script, renderer, texts, strict=False)
    if len(audio) / SR < 3600:
        sys.exit(f"long: only {len(audio) / SR:.0f} s")
    wav = work / "long.wav"
    write_wav16(wav, audio)
    encode(wav, out / "long.m4a", *M4A)
    write_refs(out, "long", turns)
    print(f"long: {len(audio) / SR:.1f} s, {len(turns)} script turns, {len(used)} Allison prompts "
          f"(manifest {digest}), built in {time.time() - t0:.0f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True, help="samples/ folder to write")
    ap.add_argument("--work", type=Path, required=True, help="scratch + TTS cache folder")
    ap.add_argument("--jfk", type=Path)
    ap.add_argument("--librivox", type=Path)
    ap.add_argument("--pyannote", type=Path, help="folder with sample.{wav,rttm,stm}")
    ap.add_argument("--joe-model", type=Path)
    ap.add_argument("--long", type=Path, help="build only the hour-long sample, into this folder")
    ap.add_argument("--long-de", type=Path, help="build only the long German sample, into this folder")
    ap.add_argument("--german", action="store_true",
                    help="build only the German sample (needs only espeak-ng, sox and ffmpeg)")
    a = ap.parse_args()
    if a.long_de:
        a.work.mkdir(parents=True, exist_ok=True)
        build_long_de(a.long_de, a.work)
        return
    if a.german:
        a.out.mkdir(parents=True, exist_ok=True)
        a.work.mkdir(parents=True, exist_ok=True)
        build_german(a.out, a.work)
        return
    missing = [f"--{k.replace('_', '-')}" for k in ("jfk", "librivox", "pyannote", "joe_model")
               if getattr(a, k) is None and not (a.long and k != "joe_model")]
    if missing:
        ap.error(f"missing {' '.join(missing)}")
    if a.long:
        a.work.mkdir(parents=True, exist_ok=True)
        checked(a.joe_model)
        build_long(a.long, a.work, a.joe_model)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    a.work.mkdir(parents=True, exist_ok=True)

    files = librivox_sources(a.librivox)
    files["jfk"] = checked(a.jfk)
    checked(a.joe_model)
    texts = {f"FILE:{k}": v for k, v in REAL_TEXT.items()}
    renderer = Renderer(a.work / "tts", a.joe_model, files)

    build_conversation(a.out, a.work, "interview", INTERVIEW, renderer, texts, "wav")
    build_conversation(a.out, a.work, "panel", PANEL, renderer, texts, "flac")
    build_pyannote(a.out, a.pyannote)
    build_silence_music(a.out, a.work)
    build_rapid(a.out, a.work, Renderer(a.work / "tts", a.joe_model, files, RAPID_VOICES))
    build_german(a.out, a.work)


if __name__ == "__main__":
    main()
