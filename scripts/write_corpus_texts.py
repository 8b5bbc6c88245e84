"""Write the hand-written part of nlakit's built-in corpus.

Produces ``nlakit/data/written/<genre>.jsonl`` (one ``{"text", "genre"}``
object per line) for ten genres: dialogue, story, instructions, list, code,
news, email, essay, poetry and qa.

Everything here was written for nlakit; nothing is copied from elsewhere.
Most texts are complete pieces stored verbatim in the ``*_TEXTS`` blocks
below (pieces are separated by a line containing only ``===``).  Three genres
get extra volume by combining hand-written building blocks, each block used
once or drawn from large pools so no two outputs are near-duplicates:

* ``list``   -- shopping lists, packing lists, to-do lists and meeting agendas
                assembled from item pools;
* ``qa``     -- quiz rounds made of hand-written trivia questions, grouped by
                category (each question is used exactly once);
* ``poetry`` -- small sequences of hand-written haiku (each used once).

The generator uses ``random.Random(SEED)``; the fixed seed makes the output,
and therefore the corpus built from it by ``scripts/build_corpus.py``,
reproducible byte for byte.  The script refuses to write anything if a text
falls outside 200-700 characters, is duplicated, or overlaps too much with
another text (word-trigram Jaccard similarity above ``MAX_SIMILARITY``).

Usage::

    python scripts/write_corpus_texts.py
"""

from __future__ import annotations

import datetime
import json
import random
import re
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path

SEED = 7321
MIN_CHARS, MAX_CHARS = 200, 700
MAX_SIMILARITY = 0.35

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "nlakit" / "data" / "written"

GENRES = (
    "dialogue", "story", "instructions", "list", "code",
    "news", "email", "essay", "poetry", "qa",
)


def pieces(block: str) -> list[str]:
    """Split a ``===``-separated block into stripped texts."""
    return [p.strip() for p in block.strip("\n").split("\n===\n") if p.strip()]


# ==========================================================================
# Complete hand-written texts
# ==========================================================================

DIALOGUE_TEXTS = r'''
A: Did you remember to water the tomatoes before you left?
B: I watered them Tuesday. It rained yesterday, so they should be fine.
A: It drizzled. That's not the same as rain.
B: Fine. I'll swing by after work and give them a proper soak.
A: And check the one by the fence. It's been leaning since the wind on Sunday.
B: I'll bring a stake from the shed. Anything else, or can I go now?
===
User: Can you explain what a leap year is in one or two sentences?
Assistant: A leap year has 366 days instead of 365, with the extra day added as February 29. It exists because Earth takes about 365.24 days to orbit the Sun, and adding a day roughly every four years keeps the calendar in step with the seasons.
User: Why "roughly"?
Assistant: Century years are skipped unless they divide evenly by 400, so 1900 was not a leap year but 2000 was.
===
"You're late," said Marguerite, not looking up from the crossword.
"The bus broke down outside the cemetery," Tomas said. "We all had to walk."
"In this weather?"
"In this weather." He shook the water off his hat. "What's a seven-letter word for stubborn?"
She tapped the pencil against her teeth. "Obstinate is nine. Mulish is six." A pause. "Adamant. No, that's seven. Adamant."
"Then write it in, and make me some tea."
===
A: Hi, I'm calling about the apartment on Birch Street. Is it still available?
B: It is. Two bedrooms, third floor, no elevator, I'm afraid.
A: That's okay. Are pets allowed? I have an older cat.
B: Cats are fine. There's a small deposit, refundable if there's no damage.
A: Great. Could I see it this weekend?
B: Saturday at eleven works. I'll text you the door code for the lobby.
===
User: My sourdough starter smells like nail polish remover. Did I ruin it?
Assistant: Probably not. That sharp acetone smell usually means the starter is hungry: the yeast and bacteria have run out of fresh flour and are producing more volatile byproducts. Discard most of it, feed the rest with equal weights of flour and water, and keep it somewhere warm. After two or three regular feedings it should smell tangy and yeasty again.
User: How much is "most of it"?
Assistant: Keep about a tablespoon or two and discard the rest.
===
Coach: Okay, everyone in. Who can tell me what went wrong in the second half?
Priya: We stopped passing. Everyone tried to do it alone.
Coach: Exactly. Marcus, how many times did you have an open teammate on your left?
Marcus: A few.
Coach: Eight. I counted. Next Saturday, three passes before anyone shoots. Understood?
Team: Understood.
Coach: Good. Water bottles, then two laps, then you can go home.
===
A: What are you reading?
B: A book about the history of salt.
A: Salt? A whole book?
B: You'd be surprised. Cities were built around salt mines. People were paid in it. Wars were fought over it.
A: I just put it on my fries.
B: So did the Romans, more or less. Well, not fries. But you know what I mean.
A: Lend it to me when you're done.
===
User: What's the difference between weather and climate?
Assistant: Weather is what the atmosphere is doing over hours or days: a thunderstorm this afternoon, a cold snap next week. Climate is the long-term pattern of weather in a region, usually averaged over thirty years or more. A useful way to remember it: weather tells you what to wear today, climate tells you what clothes to own.
===
"Is this seat taken?" the old man asked.
"No, go ahead," said Ines, moving her bag to the floor.
He sat down with a sigh and unfolded a paper map, the kind nobody carries anymore. "Forgive me. Do you know if this train stops at Vellmar?"
"It does. Two stops after the river."
"My granddaughter lives there. I haven't seen her new baby yet."
Ines smiled. "Then you're on the right train."
===
Receptionist: Good morning, Dr. Alvarez's office.
Caller: Hi, I need to move my appointment on Thursday. Something came up at work.
Receptionist: No problem. Can I have your name and date of birth?
Caller: Daniel Okafor, March 3rd, 1988.
Receptionist: Thank you. I have openings next Monday at 9:15 or Wednesday at 4:40.
Caller: Wednesday, please.
Receptionist: Done. You'll get a reminder text the day before.
===
A: Why is there a goat in the office?
B: It's "bring your pet to work day."
A: Whose pet is a goat?
B: Gerald's. He lives on a farm, apparently.
A: It's eating the printer paper.
B: Honestly, that's the most productive thing anyone's done with the printer this month.
A: I'm going to get coffee. Tell the goat to stay away from my desk.
===
User: I keep forgetting people's names right after I'm introduced. Any tips?
Assistant: A few habits help. Repeat the name back right away ("Nice to meet you, Rosa"), which forces you to process it. Link the name to something vivid about the person or a rhyme. Use it once more before the conversation ends. And if you do forget, simply ask again early on; it's far less awkward after two minutes than after two months.
===
Mom: Did you finish your homework?
Leo: Almost.
Mom: What does "almost" mean?
Leo: I did the math. I still have to read a chapter for English.
Mom: Which book?
Leo: The one about the boy and the whale. It's kind of slow.
Mom: Read the chapter, then you can have the tablet for half an hour.
Leo: An hour?
Mom: Half an hour. Go.
===
A: I think we should paint the kitchen yellow.
B: Yellow? Like a school bus?
A: No, a soft yellow. Like butter.
B: Butter is fine. School bus is not.
A: I'll bring home some sample cards. We can tape them up and look at them in the evening light.
B: Deal. But if it looks like a school bus at night, we're going with grey.
===
User: Is it safe to eat an egg that floats in water?
Assistant: A floating egg is usually old rather than automatically bad. As eggs age, moisture evaporates through the shell and the air cell grows, which makes them float. Old eggs can still be fine, but the float test can't detect spoilage. Crack it into a separate bowl: if it smells sulfurous or looks discolored, throw it away. If it smells normal, it's safe to cook thoroughly.
===
"Have you ever seen the sea?" Ama asked.
Her brother shook his head. "Only in pictures."
"Grandmother says it never stops moving. Not even at night."
"How does she know? She sleeps at night."
"She says you can hear it. Like someone breathing in the next room."
He thought about it for a while. "I'd like to hear that," he said finally. "Someday."
===
Manager: Thanks for joining. Quick update on the launch date.
Sana: Is it moving again?
Manager: By one week. The payment provider needs more time for the security review.
Jonah: That actually helps us. The onboarding screens still need translation.
Manager: Good. Sana, can you let the support team know?
Sana: I'll send a note this afternoon.
Manager: Great. Same time next Tuesday, everyone.
===
A: Excuse me, how do I get to the museum from here?
B: The art museum or the science one?
A: Science, I think. The one with the dinosaur.
B: Ah, that one. Go straight down this street until you see a fountain, then turn left. It's the big glass building. About ten minutes on foot.
A: Thank you so much.
B: Say hello to the dinosaur for me.
===
User: Write me a one-line motivational quote about starting small.
Assistant: "The mountain doesn't care how big your first step is, only that you took it."
User: Shorter?
Assistant: "Small steps still leave footprints."
User: Perfect, that's going on a sticky note above my desk.
Assistant: Good choice. I hope it keeps you company on the slow days.
===
Detective Hale leaned forward. "Where were you on Friday night, Mr. Pike?"
"At home. Watching a documentary about penguins."
"Alone?"
"With my cat."
"Can the cat confirm that?"
Pike stared at him. "Is that a joke?"
"Partly," Hale said. "The other part is that your neighbor saw your car leave at ten. So let's try again. Where were you?"
===
A: Are you coming to the reunion?
B: I haven't decided. Twenty years is a long time.
A: That's exactly why you should come.
B: What if nobody remembers me?
A: Everybody remembers you. You set the chemistry lab on fire.
B: It was a very small fire.
A: It's a legend now. People will want to hear the story from the source.
===
User: How many cups of coffee a day is too much?
Assistant: For most healthy adults, health agencies suggest staying under about 400 milligrams of caffeine a day, which is roughly three to four regular cups of brewed coffee. People who are pregnant, have heart conditions, or are sensitive to caffeine should aim lower. If you notice jitters, a racing heart, or trouble sleeping, that's a sign to cut back regardless of the number.
===
Waiter: Are you ready to order?
Guest: Almost. What's the soup today?
Waiter: Roasted carrot with ginger. It's quite good.
Guest: Is it vegan?
Waiter: It is, yes. We use coconut milk instead of cream.
Guest: Then I'll have the soup and the mushroom risotto.
Waiter: And to drink?
Guest: Just sparkling water, thank you.
===
"Grandpa, what was your first job?"
"Delivering newspapers. Six in the morning, rain or snow, on a bicycle with one working brake."
"How much did you get paid?"
"Enough to buy a comic book every week and a milkshake on Saturdays."
"That's it?"
He laughed. "That was a lot, back then. And I learned every dog on the route by name."
===
A: The Wi-Fi is down again.
B: Did you try turning the router off and on?
A: Twice. The little light is orange.
B: Orange means it can't reach the internet. It's probably the provider.
A: So what do we do?
B: We call them, wait on hold for forty minutes, and listen to the same song on repeat.
A: Or we go to the library.
B: Library it is.
===
User: Can you give me a quick analogy for how a computer's memory and storage differ?
Assistant: Think of a kitchen. Storage, like an SSD or hard drive, is the pantry: it holds everything you own, even when the lights are off, but fetching something takes a trip. Memory (RAM) is the countertop: small, fast, and it's where you put the ingredients you're using right now. When you turn off the stove and go to bed, the countertop gets cleared.
===
Nurse: On a scale of one to ten, how bad is the pain?
Patient: Maybe a six. It's worse when I breathe in.
Nurse: When did it start?
Patient: This morning, after I lifted a heavy box.
Nurse: Any dizziness or shortness of breath?
Patient: No, just the pain on the right side.
Nurse: Okay. The doctor will be in shortly to take a look. Try to keep still.
===
A: Let's play a game. I think of an animal, you ask yes-or-no questions.
B: Okay. Does it live in water?
A: No.
B: Does it have fur?
A: Yes.
B: Is it bigger than a dog?
A: No.
B: Does it climb trees?
A: Sometimes.
B: A squirrel?
A: A raccoon. But that was close.
===
User: Translate "Where is the train station?" into Spanish and French.
Assistant: Spanish: "¿Dónde está la estación de tren?" French: "Où est la gare ?" In French, "la gare" already means the train station, so you don't need to add "de train."
User: And how would I say "thank you very much"?
Assistant: Spanish: "Muchas gracias." French: "Merci beaucoup."
===
"I quit," Dana announced, dropping her bag by the door.
"The job?" asked her roommate.
"The job. I walked into his office and said it. Just like that."
"How do you feel?"
Dana sat down on the floor. "Terrified. And also like I could run a marathon."
"Well, don't run a marathon. Let's order noodles and make a plan."
===
Customer: Hi, this lamp I bought last week stopped working.
Clerk: I'm sorry to hear that. Do you have the receipt?
Customer: Right here.
Clerk: Thanks. Did you try a different bulb?
Customer: Two different bulbs, and a different outlet.
Clerk: Then it's probably the switch. I can exchange it for a new one or give you a refund.
Customer: An exchange is fine. I like the lamp when it works.
===
A: Did you hear the owls last night?
B: No, I slept like a rock. Were they loud?
A: Two of them, calling back and forth for an hour. One near the barn, one in the pines.
B: Maybe they were arguing.
A: Or courting. It's that time of year.
B: Either way, record them next time. I want to hear.
===
User: I'm nervous about giving a speech at my sister's wedding. Any advice?
Assistant: Keep it short, three to four minutes is plenty. Open with who you are, tell one specific story that shows something true and kind about your sister, say something warm about her partner, and end with a toast. Practice out loud several times, including once in front of a friend. And write it on cards rather than reading from your phone; it looks better in photos.
===
Professor Lindqvist: Who can tell me why the sky is blue?
Student: Because it reflects the ocean?
Professor Lindqvist: A popular answer, and wrong. Anyone else?
Another student: Something about the light scattering?
Professor Lindqvist: Yes. Sunlight hits molecules in the air, and shorter blue wavelengths scatter much more than red ones. So blue light comes at us from every direction of the sky.
Student: Then why are sunsets red?
Professor Lindqvist: Excellent question. That's Thursday's lecture.
===
A: How was the concert?
B: Loud. Wonderful. My ears are still ringing.
A: Did they play the old songs?
B: Three of them, at the very end. Everyone went completely wild.
A: I'm so jealous.
B: I bought you a T-shirt. It's two sizes too big, but that's the only size they had left.
A: Perfect. I'll sleep in it.
===
Pilot: Good afternoon, folks, this is your captain speaking. We're currently cruising at thirty-six thousand feet. We may hit some light chop over the mountains, so I'll turn on the seatbelt sign for a bit.
Passenger: (whispering) Is that normal?
Flight attendant: Completely normal. It's like a bumpy road. Can I get you something to drink?
Passenger: Ginger ale, please. And maybe a second one for later.
===
User: Is it true that goldfish only have a three-second memory?
Assistant: No, that's a myth. Experiments have shown goldfish can remember things for weeks or months. They can learn to respond to sounds or colors that signal feeding time, and some have been trained to push levers or swim through small mazes. Their reputation is mostly a joke that stuck around.
===
A: What should we name the new puppy?
B: Biscuit.
A: Too common. Every second dog in the park is called Biscuit.
B: Fine. Professor.
A: Professor?
B: Look at his face. He looks like he's about to give a lecture on tax law.
A: ...Okay, that's actually perfect.
===
"Do you think it'll snow?" asked Yuki, pressing her nose against the window.
"The forecast says maybe," said her father.
"Maybe isn't an answer."
"It's the only answer the weather ever gives."
She sighed dramatically. "If it snows, can we build a fort?"
"If it snows more than your boots are tall, we'll build a castle."
===
Interviewer: Tell me about a time you disagreed with a colleague.
Candidate: At my last job, a teammate wanted to rewrite our billing system from scratch. I thought we should fix it piece by piece.
Interviewer: How did you resolve it?
Candidate: We agreed to spend two weeks on the riskiest module both ways and compare. The incremental fix was faster, and he ended up leading it.
Interviewer: Interesting. Thank you.
===
User: What's a good way to remember the order of the planets?
Assistant: A classic mnemonic is "My Very Educated Mother Just Served Us Nachos": Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus, Neptune. You can also make your own; silly sentences tend to stick better. Another trick is to remember the pattern: four small rocky planets, then four giants.
===
A: Can I borrow your ladder?
B: Sure. What for?
A: There's a bird's nest in my gutter and the rain can't drain.
B: Are there eggs in it?
A: I don't know. That's what the ladder is for.
B: If there are, leave it until they hatch. You can put a bucket under the overflow for a few weeks.
A: Good point. I'll check first.
===
Librarian: Can I help you find something?
Teenager: I need a book for a project on volcanoes, but not a kids' book.
Librarian: Earth sciences are in the 550s, second floor. There's a good one on the eruption of Krakatoa.
Teenager: Is it long?
Librarian: About three hundred pages, but the photos take up half of them.
Teenager: Sold.
===
User: Why do onions make you cry?
Assistant: When you cut an onion, you break open cells that release enzymes. These react with sulfur compounds in the onion to produce a gas called syn-propanethial-S-oxide. When the gas reaches your eyes, it forms a mild irritant, and your tear glands respond to flush it out. Chilling the onion first or using a very sharp knife reduces the effect.
===
A: You look tired.
B: The neighbors' baby cried from two until five.
A: Poor baby.
B: Poor me! I have a presentation at ten.
A: Want me to get you a coffee?
B: A large one. With an extra shot. And maybe a nap pod, if they sell those.
===
Ranger: Before you head up the trail, have you got enough water?
Hiker: Two liters.
Ranger: Make it three if you can. It's hotter at the ridge than it looks from here.
Hiker: Any wildlife I should know about?
Ranger: Mostly marmots and the occasional rattlesnake on the sunny rocks. Watch where you put your hands.
Hiker: Got it. Thanks.
Ranger: And be back down before dark. The last mile is steep.
===
User: Can you suggest a name for my bakery? It's small, in a coastal town, and we mostly sell bread.
Assistant: A few ideas: "Salt & Crumb," "The Harbor Loaf," "Tideline Bakery," "Low Tide Bread Co.," or "Gull & Grain." If you want something warmer and more personal, you could use your own name or the name of your street, like "Bread on Wharf Lane." Try saying each one out loud as if answering the phone.
===
"This map is useless," Farid muttered.
"It's upside down," said Lena.
He turned it around. Then he turned it back. "No, it isn't."
"The river should be on our left."
"The river is on our left."
"Then why are we facing a parking lot?"
They both looked up. A man loading groceries into his car waved at them.
"Let's ask him," Lena said.
===
A: I signed up for a pottery class.
B: You? The person who can't draw a stick figure?
A: It's clay, not drawing.
B: What are you going to make?
A: A bowl. Hopefully. The teacher says the first ten are always lopsided.
B: Then I'd like lopsided bowl number three, please. For my keys.
A: Reserved.
===
Teacher: Okay class, who can name a mammal that lays eggs?
Student 1: A chicken?
Teacher: Chickens are birds. Good try.
Student 2: The platypus!
Teacher: Correct. Can anyone name another one?
Student 2: The echidna?
Teacher: Well done. Those are the only two kinds, and they're called monotremes. Write that word down, it'll be on Friday's quiz.
===
User: What should I do if I find a baby bird on the ground?
Assistant: First, check whether it has feathers. A fully feathered fledgling hopping around is often learning to fly, and its parents are usually nearby, so it's best to leave it alone and keep pets away. A nestling with few or no feathers has fallen from its nest: if you can see the nest, gently put it back. If not, or if the bird is injured, contact a local wildlife rescue.
===
A: Have you seen my glasses?
B: They're on your head.
A: Not those. My reading glasses.
B: Those are your reading glasses.
A: Then where are my other glasses?
B: On your face.
A: ...I think I need a third pair to find the first two.
===
Host: Welcome back to the show. Our guest today grows mushrooms in an old railway tunnel. Kofi, how did that start?
Kofi: Honestly, by accident. I rented the tunnel to store furniture, and I noticed it stayed at the same cool temperature all year.
Host: And you thought: mushrooms.
Kofi: My grandmother grew oyster mushrooms on straw. I called her that same night.
===
User: Can you help me write a text to cancel plans with a friend without sounding rude?
Assistant: Sure. Something like: "Hey Jess, I'm really sorry, but I need to cancel tonight. It's been a long week and I'm completely wiped. Can we reschedule for next weekend? I'd love to hear about your trip properly." It's honest, gives a reason without over-explaining, and suggests a new plan.
===
A: Is it just me, or is the clock in the hallway wrong?
B: It's been ten minutes fast since the spring.
A: Why hasn't anyone fixed it?
B: Because everyone arrives on time now. Nobody wants to touch it.
A: That's actually clever.
B: It was an accident. But we're calling it a strategy.
===
"Tell me about the lighthouse," said the boy.
The keeper set down her mug. "It was built before your great-grandfather was born. Ninety-two steps to the top."
"Did you count them?"
"Every night for thirty years."
"Do you ever get tired of it?"
"Of the steps, yes," she said. "Of the view from the top, never."
===
Mechanic: So, the good news is the engine's fine.
Driver: And the bad news?
Mechanic: Your brake pads are almost gone. You've been driving on metal for a while.
Driver: That explains the squealing.
Mechanic: It does. I can replace the pads and the front rotors today. Should take about two hours.
Driver: Go ahead. I'll wait at the café across the street.
===
User: How do I politely end a conversation at a party?
Assistant: Wait for a natural pause, then signal the wrap-up with something warm and specific: "It was great hearing about your trip to Lisbon." Then give a simple reason to move: getting a drink, saying hello to the host, or finding a friend. If you want, introduce them to someone else before you go. Short, sincere exits feel far less awkward than vanishing mid-sentence.
===
A: I can't believe you ate the last dumpling.
B: There were eight. I had two.
A: And who had the other six?
B: ...Okay, you had six. But I had the last one.
A: The last one is sacred.
B: I'll buy more tomorrow. A whole bag.
A: Two bags.
===
Operator: Emergency services, what is your emergency?
Caller: There's smoke coming out of the house next door and nobody's answering.
Operator: What's the address?
Caller: 14 Maple Row. The white house on the corner.
Operator: Fire crews are on the way. Please don't go inside. Are you somewhere safe?
Caller: I'm across the street.
Operator: Stay there and keep the line open for me.
===
User: Recommend a board game for four people who don't usually play board games.
Assistant: Try something with simple rules and quick turns. "Ticket to Ride" is a popular choice: you collect colored cards and claim train routes across a map, and most people learn it in ten minutes. "Codenames" is great if your group likes talking and guessing. Avoid long strategy games with thick rulebooks for a first night.
===
A: Dad, why do cats purr?
B: Mostly when they're happy and relaxed. Like when you scratch behind their ears.
A: Mostly?
B: Sometimes they purr when they're hurt or scared, too. Scientists think it might help them calm down, or even heal.
A: So Pepper is either happy or healing.
B: Looking at how she's sprawled on my sweater, I'd say happy.
===
"What's the password?" whispered the voice behind the door.
"There isn't one," said Olu. "It's a birthday party."
"There's always a password."
"Fine. Cake."
The door opened a crack. A small girl in a paper crown looked him up and down. "Correct," she said, and let him in.
===
Pharmacist: Have you taken this medication before?
Customer: No, it's new.
Pharmacist: Take one tablet twice a day with food. It can make you a bit drowsy at first, so be careful driving until you know how it affects you.
Customer: Can I drink alcohol with it?
Pharmacist: Best to avoid it while you're on this course. Any other questions?
Customer: No, that's clear. Thank you.
===
User: What's the fastest way to cool down a hot room without air conditioning?
Assistant: Close the blinds during the day to block sunlight, especially on windows facing the sun. In the evening, open windows on opposite sides of the room to create a cross breeze. Put a fan in a window facing out to push warm air away. A bowl of ice in front of a fan helps a little for a small area. And switch off lamps and electronics you're not using; they add heat too.
===
A: I just saw a fox in the backyard.
B: In the middle of the day?
A: Sitting on the compost heap like it owned the place.
B: Was it sick? Foxes usually hide in daylight.
A: It looked healthy. Fat, actually. It was eating something.
B: Probably the banana peels. Keep the cat inside for a bit, just in case.
===
Chef: Who plated table six?
Line cook: Me, chef.
Chef: The sauce is on the wrong side. The fish sits on the sauce, not next to it.
Line cook: Sorry, chef. I'll redo it.
Chef: Quickly. And wipe the rim. That drop there? Guests see that.
Line cook: Yes, chef.
Chef: Good. Table eight is next. Two risottos, one without cheese.
===
A: Is that a new bike?
B: Secondhand. Forty euros from a man who was moving to Norway.
A: Does it have gears?
B: It has three. Two of them work.
A: Which two?
B: The easy one and the impossible one. Nothing in between.
A: So every hill is a gamble.
B: Every hill is a lesson in humility.
===
User: My teenage son barely talks to me anymore. How can I get him to open up?
Assistant: Many teenagers talk more when conversations don't feel like conversations. Try side-by-side time rather than face-to-face questions: driving somewhere, cooking, walking the dog. Ask about his interests rather than his feelings, and listen without correcting. Late evenings are often when teens are most talkative, inconvenient as that is. Above all, keep showing up; the door you keep open matters even when he doesn't walk through it.
===
"Two tickets to Marlow, please," said Edith.
"Return?" asked the clerk.
"One return, one single."
The clerk raised an eyebrow. Her husband, beside her, cleared his throat.
"He's staying," Edith explained. "His brother's farm needs help for the summer. I'm coming home to the cat."
"And the quiet," her husband added.
Edith smiled. "And the quiet."
===
Tech support: Thanks for calling. What seems to be the problem?
Caller: My printer says it's out of paper, but it's full of paper.
Tech support: Could you open the tray and check that the stack is under the little metal tabs?
Caller: ...Oh. It's sitting on top of them.
Tech support: That'll do it. Push it down under the tabs and close the tray.
Caller: It's printing. I feel very silly.
Tech support: Happens to everyone. Have a good day.
===
A: I'm thinking of learning the accordion.
B: Why?
A: Why not?
B: Because we share a wall.
A: I'll practice while you're at work.
B: I work from home on Fridays.
A: Then Fridays I'll practice quietly.
B: There is no such thing as a quiet accordion.
A: We'll see.
===
User: Can you help me understand what "inflation" means in simple terms?
Assistant: Inflation is when prices across the economy rise over time, so the same amount of money buys less than it used to. If a loaf of bread cost 2 last year and costs 2.10 now, that's 5 percent inflation for bread. A little inflation, around 2 percent a year, is considered normal and healthy by most central banks. High inflation is a problem because wages and savings often don't keep up.
===
Farmer: You're the new vet?
Vet: That's me. Where's the patient?
Farmer: In the barn. Her name's Duchess. She's been off her food since yesterday.
Vet: How old is she?
Farmer: Nine. Best milker I've ever had.
Vet: Let's take a look. Could you hold her head for me while I listen to her stomach?
Farmer: She doesn't like strangers.
Vet: Then I'll be quick, and polite.
===
A: Why are you whispering?
B: There's a bee in the car.
A: Bees can't hear whispering.
B: You don't know that.
A: Just open the window.
B: If I move, it'll know.
A: Pull over. I'll get it out.
B: Gently! It's probably just lost.
===
"You've been staring at that painting for twenty minutes," said Jude.
"It's the light," said Nell. "Look at how he's done the window. The glass isn't painted. It's just the wall behind, slightly paler."
"I'd never have noticed."
"Nobody notices. That's why it works."
Jude looked again. "Okay. Now I can't stop seeing it."
"Welcome," said Nell, "to my entire life."
===
User: What's the difference between "affect" and "effect"?
Assistant: In most everyday uses, "affect" is a verb meaning to influence something ("The rain affected our plans"), and "effect" is a noun meaning a result ("The rain had a big effect on our plans"). A handy memory trick: Affect is an Action, Effect is an End result. There are exceptions, such as "to effect change," meaning to bring it about, but the rule covers most situations.
===
A: Did you get the job?
B: They want me to start Monday.
A: That's brilliant! Why do you look worried?
B: It's in the city. I'd have to move.
A: You've wanted to live in the city since we were twelve.
B: I know. It's just that wanting something and getting it are very different feelings.
A: Go. I'll visit every month. I'll bring the good coffee.
===
Tour guide: On your left is the oldest pub in the city, serving beer since 1540.
Tourist: Is it still open?
Tour guide: Every day from noon. The ghost is said to be friendly.
Tourist: There's a ghost?
Tour guide: A former landlord, apparently. He rearranges the glasses at night.
Tourist: Maybe he's just tidy.
Tour guide: That's what the current landlord says. He's stopped complaining.
'''

STORY_TEXTS = r'''
The fox found a bell in the snow, a small brass one that had fallen from a sleigh. He carried it home in his mouth, and for the rest of the winter every animal in the forest knew exactly where he was. He caught no rabbits that year. In spring, thin and wiser, he dropped the bell in the river and listened to it sink, ringing softly all the way to the bottom.
===
Every morning at six, Mrs. Okonjo opened her shop and set a single chair on the pavement. Nobody ever sat in it. The neighbors assumed it was for her late husband, or for luck. One rainy Tuesday a soaked delivery boy collapsed into it, panting. She brought him tea without a word. "Finally," she said, when he tried to thank her. "Forty years I've been putting that chair out."
===
The robot had been built to sort mail, and it was very good at sorting mail. When the post office closed, nobody came to switch it off. For eleven years it sorted leaves that blew in through the broken window: oak to the left, maple to the right, birch in the small bin by the door. When a group of children finally found it, the bins were full, and perfectly organized.
===
Lior had promised his sister he would not open the box until her plane landed. He lasted until noon. Inside, wrapped in newspaper, was their father's old pocket watch, stopped at 4:17. He remembered that time. It was the minute their father had always claimed he'd been born. He held it until her message came: "Landed. Did you open it?" He wrote back: "Of course not."
===
The tortoise entered the race knowing he would lose. He had done the arithmetic. But the course passed through the old orchard, and it was autumn, and the plums had fallen. While the hare sprinted past, the tortoise ate slowly and with great care. He finished last, late in the evening. "How was it?" asked the hare. "Delicious," said the tortoise.
===
Nadia was the only passenger left when the bus reached the end of the line. The driver turned off the engine and looked at her in the mirror. "This is as far as it goes." She looked out at the dark field, the one streetlight, the sign that said nothing at all. "I know," she said. "I grew up here." She stepped off, and the bus sat there, idling, until she reached the house on the hill and a light came on.
===
The king demanded a painting of the kingdom's most beautiful place. The first painter brought mountains. The second brought the sea. The third came back with a painting of a kitchen table: bread, a chipped cup, a window with morning in it. The king was furious until he recognized the cup. It was his mother's. He had not seen that table since he was six. The third painter was paid double.
===
On the night before the exam, the power went out across the whole dormitory. At first there was groaning. Then someone lit a candle in the hallway, and someone else brought out a guitar, and by midnight forty students were sitting on the floor quizzing each other on organic chemistry by flashlight. Most of them, years later, could still recite the mechanism they learned that night.
===
The old woman sold umbrellas on the corner where it never rained. Tourists laughed and took photos. She sold perhaps one a month, usually as a joke. Then came the wettest spring in a century. For six weeks, she was the most important person in the city. When the sun returned, she packed up her stall and moved to a corner two streets down, where it also never rained.
===
A crow noticed that the farmer threw corn to the chickens each morning. The crow could not pretend to be a chicken, so it learned to cluck. It was a terrible cluck, more like a cough, but the farmer laughed so hard that he threw the crow a whole handful. After that the crow clucked every morning, and the chickens, who found the whole thing embarrassing, pretended not to know it.
===
When Teodor retired from the orchestra, he kept playing the cello every evening at seven, the exact time the concerts used to start. His neighbors began opening their windows. Then a few brought chairs into the courtyard. By summer there was a small audience each night, and someone had strung lights between the balconies. He never acknowledged them. He only bowed, once, at the end.
===
The lighthouse keeper's daughter learned Morse code before she learned to read. She tapped messages to passing ships with a flashlight: hello, good luck, what are you carrying? Most never answered. But one freighter, every third Thursday, blinked back: bananas. Then, months later: oranges. Once, to her enormous delight: elephants? She never found out whether that one was a joke.
===
Sam's grandmother kept a jar of buttons on the windowsill, hundreds of them, no two alike. When Sam asked why, she emptied it onto the table and told a story for each one: a coat from her wedding, a uniform from the war, a doll that had belonged to a sister who died young. It took all afternoon. When she finished, she poured them back in and said, "Now you know where I keep everything."
===
The new teacher arrived in the mountain village in October and was told the school had no books. She wrote to every publisher she could find. Nothing came. In December, she began writing the books herself, one per week, by hand, with the children as the heroes. By spring there were twenty, each read to pieces. The village still keeps them in a glass case in the town hall.
===
A small cloud drifted over the desert and felt terribly guilty. Below, everything was dry and waiting. The cloud squeezed and squeezed, but only a few drops fell, and they vanished before reaching the ground. Ashamed, it drifted on. It did not see the beetle standing on the dune with its back raised, catching the fog of its passing, drinking the only water it would have that week.
===
Malik fixed watches in a shop the size of a closet. People brought him heirlooms that had not run in decades. He never promised anything. He would open the case, look for a long time, and say, "Come back Friday." One Friday a woman picked up her father's watch, heard it ticking, and began to cry in the doorway. Malik pretended to be very busy with a spring until she had gone.
===
The dragon was old, and the knights who came to fight it were getting younger and younger. The last one could barely lift his sword. The dragon sighed smoke, lay its head on the ground, and said, "Sit down. Have you eaten?" The knight stayed for a week. He learned to read from the dragon's library. When he went home, he told everyone the dragon was dead, so that nobody else would come.
===
Priya set up her telescope on the roof every clear night for a year, searching for a comet that an astronomer had predicted in 1911. Everyone told her the calculation was wrong. On the three hundred and forty-first night, there it was: a faint smudge near Cassiopeia, exactly where it should be, a century late. She named it after the astronomer, and then went downstairs and slept for fourteen hours.
===
The elevator in the Kessler building stopped between floors every day at 3:15. The tenants complained for years. A repairman finally traced the fault to an old wire running past the ground-floor bakery. At 3:15, every day, the bakery switched on its second oven. The landlord offered to move the oven. The tenants voted against it. By then they had grown fond of the four minutes of quiet.
===
In the village of Hoff, it was believed that the first person to see the swallows return would have good luck all year. So every April, grown adults crept out before dawn with binoculars. One year, the swallows were spotted first by Mr. Brandt, who was famously the unluckiest man in Hoff. That year his roof did not leak, his goat did not escape, and he won a ham in the raffle. Nobody has let him forget it.
===
The mapmaker was hired to chart the coastline, but the coastline kept changing. Storms took a beach; a sandbar rose where there had been water. After ten years she delivered her map, and the governor complained it was already wrong. "Of course it is," she said. "I have mapped the coast as it was on one particular Tuesday. That is the only kind of map there is."
===
Two brothers inherited a field and could not agree on what to plant. One wanted wheat; the other wanted sunflowers. They drew a line down the middle and did both. For years they competed, each trying to make his half the best in the valley. When they were old, a painter stopped to paint the field, gold on the left, gold on the right, and they realized that from the road it had always looked like one.
===
It was Hana's first day as a lifeguard, and nothing happened. Nobody drowned, nobody even got a cramp. She watched the water for eight hours, counted swimmers, blew her whistle twice at boys running on the deck. When she got home she felt strangely flat, as though she had failed a test. Her mother, a nurse, laughed. "That was a perfect day," she said. "Get used to being proud of them."
===
A mouse lived behind the piano in the concert hall. Over the years it learned every symphony, every sonata, every cough in the third row. When a young pianist froze during her debut, forgetting the next bar, the mouse did the only thing it could think of: it ran across the keys. Two notes, the right ones. The audience gasped, then laughed. She remembered the rest, and never again played without a piece of cheese on the bench.
===
The astronaut kept a small potted basil plant on the station, against regulations. It was the only thing aboard that smelled like Earth. When mission control found out, they demanded it be removed. She wrote a four-page report on the psychological benefits of herbs in isolated environments. The basil stayed. On the next resupply mission, someone had slipped in a packet of mint seeds.
===
Every year on her birthday, Esther received an anonymous postcard with a single line of poetry. Fifty-two postcards, fifty-two lines. She pinned them to the wall in order and realized, at last, that together they made one long poem about a girl who once shared her umbrella with a stranger at a bus stop. She remembered the bus stop. She did not remember the stranger at all.
===
The village had two bakers who had not spoken in thirty years. Nobody remembered why. When the old flour mill burned down, both bakeries faced ruin. That winter, the villagers saw them at dawn, side by side, loading sacks onto a single cart for the long trip to the next valley. They still didn't speak. But they split the cost exactly in half, and from then on, they took turns driving.
===
Ben was seven and convinced there was a monster under his bed. His father, exhausted, did not argue. He got down on the floor, peered underneath, and began a polite negotiation: the monster could stay if it agreed to keep away the bad dreams. Ben listened from above, fascinated. The monster, his father reported, had agreed, but wanted a biscuit left out on Fridays. Ben slept through the night for the first time in weeks.
===
The storm took out the bridge at two in the morning. By six, the people on the east bank had rigged a rope and a basket across the river. By eight, they were sending over bread and milk and medicine to the farms cut off on the other side. In return came eggs, a radio with fresh batteries, and a hand-written note that said only, "We owe you a bridge."
===
In the museum there was a painting of a woman holding a letter. For two hundred years visitors had wondered what the letter said. A conservator, cleaning the canvas one winter, found faint words beneath the varnish, painted so small they had never been noticed. She read them with a magnifying glass and laughed out loud. It was a shopping list: eggs, thread, candles, and "remember the cat."
===
Amara's first apartment had a radiator that knocked like someone asking to come in. She named it Gerald. She talked to Gerald when the city was too quiet, told him about her job, her terrible boss, the boy from the bookshop. When she finally moved out, she left a note taped above the radiator for the next tenant: "His name is Gerald. He's harmless. He just wants to be warm."
===
An ant carried a crumb far too large for it, up and over a stone, down through the grass, across a terrifying stretch of sidewalk. A boy watched the whole journey, lying on his stomach. When the ant reached the nest, dozens of others swarmed out to help. The boy went inside and helped his mother carry in the groceries without being asked. She never found out why.
===
The clockmaker built a clock that ran backwards, as a joke for his daughter. She hung it in her room and, being six, took it very seriously. On birthdays she announced she was one year younger. She said good morning at night. When she was twenty, she moved across the ocean and took the clock with her. Every letter she sent home ended the same way: "Counting down until I see you."
===
Jun planted a tree on the day his son was born. It died the first winter. He planted another, and the goats ate it. The third survived a drought and a lightning strike that split one branch. By the time the boy was twelve, the tree was taller than the house. "Which one is mine?" the boy asked, and Jun said, "All three. The first two were practice."
===
The cat had belonged to the old professor, and when the professor died, the cat refused to leave the university library. The staff gave up trying to remove it. It slept on the radiator in the philosophy section and hissed at anyone who talked above a whisper. Eventually the library put its photo on the website under "Staff," with the title "Head of Silence."
===
Only one house on Linden Street did not put up lights in December. The children whispered that a witch lived there. One evening, a small girl climbed the steps and knocked. An old man opened the door. She handed him a single string of lights and ran. The next night, the house glowed, very dimly, in one window. The following year, he had lights on every window, and a bowl of sweets on the step.
===
The scientists spent three years training a parrot to count. It could reliably say "four" when shown four blocks. At the grand demonstration, in front of journalists and a visiting minister, it was shown five blocks and said, very clearly, "I'd like a nut." The room went silent. The minister laughed first. The funding was renewed, largely, the lab agreed, on the strength of the joke.
===
Rosa inherited her aunt's recipe box, but the cards said things like "flour, enough" and "bake until it smells right." For months her cakes collapsed. Then she started visiting her aunt's old friends, one by one, and asking them to cook with her. Each of them remembered a different detail. By the end of the year, Rosa had a new recipe box, full of cards in twelve different handwritings.
===
The night train stopped at a station that wasn't on the schedule. A single passenger got on: a woman with a violin case and snow on her shoulders. She sat across from Emil and played, very softly, until dawn. When he woke, she was gone, and the conductor said no one had boarded. Emil would have believed it was a dream if not for the single pine needle left on the seat.
===
Marta was the only one in the office who knew how to fix the ancient printer. She told no one how she did it. When she left for a new job, panic spread. On her last day she handed her manager a sealed envelope. Inside was a single instruction: "Open the side panel and say something nice to it." He laughed. Then he tried it. It worked, somehow, every time.
===
A hermit crab outgrew its shell and went looking for a new one. It tried a snail shell, too tight; a bottle cap, too shallow; a tiny plastic castle from someone's aquarium, too embarrassing. Finally it found a shell exactly its size, but another crab was already looking at it. They stared at each other for a long time. Then the other crab stepped aside. The first crab never forgot that kindness.
===
When the new highway opened, the roadside diner lost almost all its customers. The owner kept it open anyway, serving pie to the three or four truckers who still took the old road out of habit. Twenty years later, a food critic got lost, stopped for directions, and ordered the cherry pie. Her review ran on a Sunday. By Monday the line stretched into the parking lot, and the owner had to call his grandchildren in to help.
===
Every evening, the ferry crossed the lake with one passenger who never got off. He rode across, watched the far shore for a moment, and rode back. The crew assumed he was lonely or strange. Only the captain knew that forty years earlier, the man had proposed on that crossing, and that his wife, now gone, had always said it was the best view in the world.
===
The snowman was built on a Tuesday and understood from the start that it did not have long. It made a plan. It would watch every sunrise it was given. It would listen to the children arguing about whether its nose should be a carrot or a pinecone. On Saturday the thaw came. It went without complaint, having seen four sunrises, which, it decided, was a great many more than none.
===
The librarian noticed that the same book was borrowed every two weeks by the same quiet boy: a thick atlas of the world. After a year, she asked him why. "I'm choosing where to live," he said. "How's it going?" He considered. "I've ruled out the poles." Twenty years later she received a postcard from Lisbon. It said only: "Chose. Thank you for the atlas."
===
When the goat escaped, the whole village chased it. It ran through the market, over a wall, and up the steps of the church, where it stood on the altar looking pleased with itself. The priest, who was in the middle of a wedding, paused, looked at the goat, looked at the couple, and said, "Well, it's a witness." The marriage has lasted forty-three years, and the couple still sends the goat's descendants a cabbage every anniversary.
===
Ida practised the violin in the garage so she wouldn't bother anyone. Her scales squeaked; her long notes wobbled. What she didn't know was that the old man next door, almost deaf, could feel the vibrations through the wall he shared with the garage. He sat with his hand flat against it every afternoon. When she moved away for music school, he was the one who cried at the farewell party.
===
The apprentice was told to sweep the workshop floor for a month before touching a single tool. He swept angrily for a week. Then he noticed the shavings: curls of oak from the master's bench, dust of walnut, splinters of pine from the students. By the third week, he could tell who had worked where just from the floor. On the last day, the master handed him a plane. "Now," she said, "you know what wood does."
===
The park bench had a small brass plaque: "For Walter, who loved this view." Nobody knew who Walter was. People left things on the bench for him anyway: a flower, a coffee, once a chess set with a game half finished. A week later, someone had made the next move. Nobody ever saw who. The game went on for two years, one move at a time.
===
Sofia opened a tiny bookshop in a town where, everyone warned her, nobody read. For the first month she sold nothing. So she started reading aloud in the window, an hour each afternoon, whatever she happened to be enjoying. A child stopped to listen. Then two. Then a grandmother with a shopping cart. By autumn, she had to put chairs on the pavement, and the town had become, quite suddenly, a town that read.
===
A young wolf asked the old wolf how to become the leader of the pack. "Eat last," said the old wolf. The young wolf thought this was a trick. He tried being the fiercest and the loudest, and the pack followed him only out of fear. One hard winter he let the pups eat first and went hungry for three days. After that, he noticed, nobody needed to be told who led.
===
In the years after the war, the town had no money for a statue, so they planted an oak in the square instead. "A statue stays the same," said the mayor, "and we are not the same." The tree grew crooked, leaning toward the river. Children climbed it; couples carved initials in it; the council argued about trimming it every spring. It is still there, and it has outlived every mayor.
===
At the end of the pier, a boy fished every day with no bait on his hook. An old fisherman finally asked him why. "I don't want to catch anything," the boy said. "My dad used to fish here. I just like holding the rod." The fisherman nodded, sat down beside him, and took the bait off his own hook. They sat like that until the sun went down.
===
Kai built a raft out of milk crates and floated it across the pond behind his school. It sank halfway. He swam back, soaked and laughing, and spent the next month studying buoyancy with a library book and a bathtub. The second raft made it across. The third, which his whole class helped build, carried four kids and a dog. The principal banned rafts the following week.
===
The bees chose the hollow of an old chimney on the Pereira house and would not be moved. The family tried smoke, a beekeeper, a cousin with strong opinions. In the end they bricked off the fireplace and let the bees have the chimney. For twenty years the house smelled faintly of honey in August, and every winter the grandmother climbed up, against all advice, to take a single jar.
===
The little robot vacuum had been mapping the apartment for three months. It knew every chair leg, every cable, every sock that migrated across the floor. When the family moved, they packed it in a box. At the new house it rolled out, spun slowly in the empty room, and beeped once, plaintively. The youngest child sat down on the floor next to it. "I know," she said. "Me too."
===
The queen ant had lived for twenty-six years in a glass box in a classroom. Generations of students had watched her colony dig tunnels against the glass. One day she stopped moving. The teacher, who had looked after her since her own first year of teaching, buried her in the schoolyard under the apple tree, with the whole class standing quietly around, and a small stone that read: "Mother of Thousands."
===
Chen's father never said he was proud of him. He said other things instead: "Drive carefully." "Did you eat?" "Your tires look low." When Chen finally understood, he was thirty-four and standing in a hospital corridor. He went in, sat by the bed, and said, "Dad, did you eat?" His father opened his eyes and smiled, and that was the whole conversation, and it was enough.
===
The stray dog turned up at the fire station during a thunderstorm and refused to leave. The crew named him Hydrant. He rode to every call in the front seat, ears flapping, and waited by the truck until everyone came back. When the captain retired, he asked for only one thing as a gift. The crew agreed, though they missed Hydrant terribly. A month later, the captain brought him back: "He keeps waiting by the door."
===
The poet had writer's block for three years. She tried everything: silence, travel, whiskey, a cabin in the woods. Nothing. Then her neighbor's toddler started shouting words over the fence each morning: "Moon! Truck! Spoon!" She began to write them down. By the end of the summer, she had a book, and the toddler, at his insistence, was listed as co-author.
===
On the island, there was a rule that whoever caught the first fish of the season had to give it away. Nobody remembered why. One year, the first fish was caught by Ana, who was nine and had been dreaming of that fish for months. She looked at it, at the old widow on the dock, and walked over and put it in her basket. That night the widow brought Ana a plate of fried fish, and they ate it together.
===
The inventor built a machine to make people laugh. It told puns; nobody laughed. It told long stories with surprising endings; people smiled politely. Frustrated, the inventor kicked it. The machine fell over, whirred, and began to sing an opera aria, badly, in a very high voice. The whole workshop collapsed in laughter. The inventor wrote in her notebook: "Comedy requires failure."
===
Grace had been a taxi driver for thirty years and had a rule: she listened more than she talked. She had driven brides to weddings and widows from funerals, nervous students to exams, a man with a live lobster in a bucket. On her last shift, a young woman got in, crying. Grace drove around the park twice, for free, until she stopped. "Where to now?" "Home," said the woman. "I think I'm ready."
===
The village well had been dry for years, but people still tossed coins into it for luck. When the new mayor had it cleared out, workers found nearly eleven thousand coins at the bottom, from eight different countries and four different centuries. The mayor used the money to fix the school roof. Then, because the village insisted, she had the well filled with water again, just enough to hear the splash.
===
Every Thursday, Oskar played chess with a stranger on the internet who called themselves "Pawnbroker." They never chatted; they just played, one game a week, for nine years. Oskar won 213 games and lost 231. When the Thursdays stopped, he sent a message for the first time: "Are you all right?" A week later came the reply, from a daughter: "Dad talked about you a lot. He said you were his best friend."
===
The night the circus left town, one elephant refused to get on the train. She stood on the platform with her feet planted, trunk curled, utterly calm. The trainers tried treats, ropes, songs. At dawn a girl from the town walked down with a bucket of apples, the same girl who had come to every show that week. The elephant ate the apples, touched the girl's head once with her trunk, and then boarded.
===
Helga kept bees on the roof of a bank in the middle of the city. The bankers thought she was mad until the first harvest, when she left a jar of honey on every desk. The honey tasted of linden trees and rooftop geraniums and, someone swore, of the bakery on the corner. The next year there was a waiting list for jars, and the bank's annual report had a small illustration of a bee on the cover.
===
The expedition reached the summit two hours after sunrise. The guide, who had climbed it forty times, sat down on a rock and said nothing. The younger climbers photographed everything: the clouds below them, the flag, each other. Later, one of them asked the guide what he thought about at the top. "My feet," he said. "Then the way down. Then, for just a moment, that I am very lucky."
===
Amir found a message in a bottle on a beach in Oman. It was written in Dutch by a ten-year-old girl, asking whoever found it to write back. He used a translation app and sent a letter to the address inside. Six weeks later, the reply came from a woman of fifty-three, who had thrown the bottle from a ferry in 1981. She had two grandchildren now, she wrote, and had just told them the bottle had finally arrived somewhere.
===
The school play was a disaster from the first scene. The castle fell over. The king forgot his lines and the princess had the hiccups. Then the dog belonging to the stage manager wandered onto the stage, sat down in the middle of the battle scene, and yawned. The audience laughed until they cried. The next morning, the local paper called it "the finest comedy the town has seen in years," which was not what anyone had intended.
===
Once a year, on the longest night, the old couple at the end of the lane put a candle in every window of their house, thirty-one candles in all. Nobody knew why. Children made up stories about lost sailors and secret signals. The real reason was simpler: they had met on the longest night, in a power cut, at a party where someone handed them each a candle. They were just keeping the room lit.
===
Tova built boats in a shed by the river and never sold one. She gave them away: to a fisherman whose boat had sunk, to a school for rowing lessons, to a young couple who wanted to paddle to their own wedding. When she grew too old to lift the planks, half the town came to the shed one Saturday to help her finish the last one. They launched it together and named it after her, which she pretended to hate.
===
The parrot in the pet shop had learned only one phrase from its previous owner: "Don't forget your umbrella." It said it to every customer who left. Most laughed. One rainy spring, a man who had been ignoring it for years finally turned around at the door, went home for his umbrella, and missed the bus that skidded off the bridge that afternoon. He bought the parrot the next day.
===
Mira's family moved eleven times before she turned fifteen. In every new bedroom she did the same thing first: she pressed a glow-in-the-dark star onto the ceiling above her bed. She kept the packet in her pocket during each move. When she finally bought a flat of her own, at thirty, she lay on the floor of the empty bedroom and stuck up the last star. It was the first one she knew she would never have to leave.
===
The fisherman's wife knew the weather better than the radio. She read it in the way the gulls flew, the smell of the harbor, the ache in her left knee. When she said stay in, the boats stayed in, whatever the forecast said. The young skipper who ignored her once, in a bright calm morning, came back three days later, without his nets, and brought her a cake. After that, he asked her first.
'''

INSTRUCTIONS_TEXTS = r'''
How to make a basic vinaigrette

1. Put one tablespoon of vinegar (red wine, cider or balsamic) in a small jar.
2. Add half a teaspoon of Dijon mustard, a pinch of salt and a grind of black pepper.
3. Pour in three tablespoons of olive oil.
4. Close the lid and shake hard for fifteen seconds until the dressing looks creamy.
5. Taste on a leaf of lettuce, not from a spoon, and adjust the salt or acid.
It keeps in the fridge for a week; shake again before using.
===
To change a flat bicycle tire, first shift to the smallest rear cog and open the brake if you have rim brakes. Release the wheel and let out any remaining air. Hook two tire levers under the bead, a hand's width apart, and pull one side of the tire off the rim. Remove the tube, then run your fingers carefully around the inside of the tire to find whatever caused the puncture. Fit the new tube slightly inflated, push the bead back on with your thumbs, and pump to the pressure printed on the sidewall.
===
Overnight oats (one serving)
- Mix 1/2 cup rolled oats, 1/2 cup milk of your choice and 1/4 cup plain yogurt in a jar.
- Stir in a teaspoon of chia seeds and a small drizzle of honey or maple syrup.
- Add a pinch of cinnamon if you like.
- Cover and refrigerate at least six hours, ideally overnight.
- In the morning, loosen with a splash of milk and top with berries, sliced banana or chopped nuts.
Eat cold, or warm it for a minute if the weather is grim.
===
How to repot a houseplant: Water the plant the day before so the root ball holds together. Choose a new pot only one size larger, with a drainage hole. Add a layer of fresh potting mix to the bottom. Tip the old pot sideways, support the base of the stems between your fingers, and slide the plant out. Gently loosen any roots circling the bottom. Set the plant at the same depth as before, fill around it with mix, press lightly, and water until it drains out the bottom. Keep it out of direct sun for a week.
===
Setting up a new phone for an older relative
1. Turn up the default text size and enable bold text in the display settings.
2. Remove apps they won't use from the home screen; keep phone, messages, camera and photos.
3. Add favorite contacts with photos, so they can tap a face instead of searching a name.
4. Turn on automatic updates and backups.
5. Write the passcode on a card and keep it somewhere safe at home.
6. Practice a video call together before you leave.
===
Quick tomato soup: Warm two tablespoons of olive oil in a pot and soften a chopped onion for eight minutes with a pinch of salt. Add two crushed garlic cloves and cook one minute more. Tip in two cans of whole tomatoes and a cup of stock, then simmer for twenty minutes. Blend until smooth, being careful with the hot liquid. Stir in a splash of cream or a knob of butter, season to taste, and finish with torn basil. Serve with toasted bread and sharp cheese.
===
How to write a clear bug report
- Give it a specific title: "Export crashes when filename contains a slash," not "Export broken."
- Say what you did, step by step, starting from a fresh launch.
- Say what you expected to happen and what actually happened.
- Include the exact error message, copied rather than retyped.
- Note the version, operating system and anything unusual about your setup.
- Attach a small file or screenshot that reproduces the problem, if you can.
===
To sharpen a kitchen knife on a whetstone, soak the stone for ten minutes if it's a water stone. Place it on a damp towel so it can't slide. Hold the blade at about fifteen to twenty degrees, roughly the height of two stacked coins under the spine. Push the edge across the stone as if slicing a thin layer off it, sweeping from heel to tip. Do ten strokes, then ten on the other side. Feel for a small burr along the edge, then switch to the fine side and repeat with lighter pressure.
===
Packing a carry-on for a week
1. Lay out everything you think you need, then remove a third.
2. Choose one color scheme so every top works with every bottom.
3. Wear your bulkiest shoes and jacket on the plane.
4. Roll soft clothes; fold structured ones.
5. Put liquids in one clear bag at the top, where you can reach it at security.
6. Pack a spare shirt and underwear in your personal item in case your bag is delayed.
===
Making a cup of pour-over coffee: Heat water to just off the boil, about 94°C. Rinse the paper filter with hot water to remove the papery taste, then discard that water. Add 15 grams of medium-fine ground coffee. Pour about 30 grams of water to wet the grounds and wait thirty seconds while they bloom. Then pour slowly in circles until you reach 250 grams total. The whole brew should take around three minutes. If it tastes sour, grind finer; if bitter, grind coarser.
===
How to clean a cast iron pan
- While the pan is still warm, rinse it under hot water and scrub with a brush or the rough side of a sponge.
- For stuck bits, scrub with coarse salt and a little water.
- A small amount of soap is fine; just don't soak it.
- Dry it immediately with a towel, then set it over low heat for a minute to drive off moisture.
- Rub a few drops of oil over the inside with a paper towel until it looks barely glossy.
===
To plant spring bulbs, wait until the soil has cooled in autumn, usually a few weeks before the ground freezes. Pick a spot that gets at least half a day of sun. Dig holes about three times as deep as the bulb is tall: roughly fifteen centimeters for tulips and daffodils, less for crocuses. Set each bulb pointy end up, cover with soil and water once. Plant in loose groups of five or more rather than neat rows; they look more natural when they flower.
===
Basic pancake batter (about 10 pancakes)
Whisk together 200 g flour, 2 teaspoons baking powder, a pinch of salt and 1 tablespoon sugar. In another bowl beat 2 eggs with 300 ml milk and 2 tablespoons melted butter. Pour the wet into the dry and stir just until no dry flour remains; lumps are fine. Rest the batter for five minutes. Heat a lightly oiled pan over medium heat and cook ladlefuls until bubbles appear on top, then flip once.
===
How to back up your photos properly
1. Keep at least three copies of anything you'd hate to lose.
2. Store them on two different kinds of media, for example your laptop and an external drive.
3. Keep one copy somewhere else: a cloud service or a drive at a friend's house.
4. Check your backups twice a year by actually opening a few old files.
5. Label drives with the date range they contain.
A backup you have never restored from is only a hope.
===
To hang a picture straight, first decide on the height: the center of the picture is usually around 145 centimeters from the floor. Measure the distance from the top of the frame to the taut hanging wire. Mark the wall where the top of the frame should be, then measure down that distance and mark again. That second mark is where the nail or hook goes. For heavy frames use two hooks a hand's width apart, and check with a level before you step back.
===
Steps for a basic home workout (20 minutes)
- Warm up: two minutes of marching in place and arm circles.
- Squats: 3 sets of 12, resting 30 seconds between sets.
- Push-ups: 3 sets of 8; do them against a table or on your knees if needed.
- Lunges: 3 sets of 10 per leg.
- Plank: 3 holds of 30 seconds.
- Cool down with gentle stretches for the hamstrings, hips and shoulders.
Stop if anything hurts sharply; mild effort is the goal.
===
How to boil an egg so the yolk is just set: Bring a pot of water to a rolling boil. Lower cold eggs in gently with a spoon. Keep the water at a gentle boil for nine minutes. Meanwhile fill a bowl with cold water and ice. When the time is up, move the eggs straight into the ice bath for at least five minutes. Crack each one all over on the counter and peel under running water, starting from the wide end where the air pocket is.
===
Unclogging a slow bathroom sink
1. Remove the stopper; most lift out or unscrew from a rod behind the tap.
2. Pull out any hair with a bent wire or a plastic drain snake.
3. Pour half a cup of baking soda down the drain, then a cup of white vinegar.
4. Wait fifteen minutes while it fizzes.
5. Flush with a kettle of very hot, not boiling, water.
6. If it's still slow, put a bucket under the U-shaped pipe, unscrew it, and clean it out.
===
How to introduce a new cat to your home: Prepare one quiet room with food, water, a litter box and somewhere to hide. Let the cat stay there for the first few days, visiting often and sitting on the floor without forcing contact. If you have other pets, swap blankets between them so they learn each other's smell before meeting. Open the door when the new cat is eating and using the litter box normally. Expect it to take a couple of weeks before it relaxes completely.
===
Simple guacamole
- Halve two ripe avocados, remove the stones and scoop the flesh into a bowl.
- Mash with a fork, leaving some chunks.
- Add the juice of one lime, a pinch of salt and half a finely chopped small onion.
- Stir in a handful of chopped coriander and, if you like heat, one seeded chopped chili.
- Taste and adjust salt and lime.
Press plastic wrap onto the surface if you're not serving it right away, to stop it browning.
===
How to get better sleep, in practical steps: Go to bed and get up at the same time every day, including weekends. Get daylight in your eyes within an hour of waking. Stop caffeine by early afternoon. Keep the bedroom cool, dark and quiet. Put your phone to charge outside the bedroom, or at least across the room. If you can't fall asleep after about twenty minutes, get up and do something dull in dim light until you feel drowsy, then try again.
===
Preparing for a job interview
1. Read the job description twice and highlight the skills they mention most.
2. Prepare three short stories from your experience that show those skills.
3. Research the company: what it sells, who its customers are, recent news.
4. Write down two or three real questions you want to ask them.
5. Plan your route or test your video setup the day before.
6. Sleep well. A rested brain interviews better than a crammed one.
===
To fold a fitted sheet, hold it inside out by two adjacent corners, with your hands inside the pockets. Tuck the right corner into the left so the pockets nest together. Do the same with the other two corners. Now lay the sheet flat on a bed or table, with the curved elastic edges facing you. Fold in the sides to make a rough rectangle, then fold it in thirds lengthwise and again crosswise. It won't be perfect, but it will fit on the shelf.
===
Roasting vegetables: Heat the oven to 220°C. Cut vegetables into pieces about the same size so they cook evenly: carrots and potatoes a little smaller, peppers and onions a little larger. Toss them with enough olive oil to coat, plus salt and pepper. Spread them on a tray in a single layer with space between the pieces; crowded vegetables steam instead of browning. Roast 25 to 40 minutes, turning once, until the edges are dark and crisp.
===
How to give feedback that people can use
- Be specific: name the exact thing, not a general impression.
- Describe the effect: "When the report arrived late, the client meeting had to be moved."
- Separate the person from the work.
- Ask for their view before suggesting a fix.
- Agree on one concrete next step.
- Give positive feedback with the same precision as criticism; vague praise teaches nothing.
===
To jump-start a car, park the working car close but not touching. Turn both engines off. Connect one red clamp to the positive terminal of the dead battery and the other red clamp to the positive terminal of the good battery. Attach a black clamp to the negative terminal of the good battery, and the last black clamp to an unpainted metal part of the dead car's engine, away from the battery. Start the working car, wait a few minutes, then try the dead one. Remove the cables in reverse order.
===
Lemon and herb roast chicken
1. Heat the oven to 200°C and take the chicken out of the fridge 30 minutes before.
2. Pat it dry and season well inside and out with salt.
3. Stuff the cavity with a halved lemon, a few garlic cloves and a bunch of thyme.
4. Rub the skin with soft butter or oil.
5. Roast about 20 minutes per 500 g plus 20 minutes, until the juices run clear.
6. Rest it for 15 minutes before carving, under loose foil.
===
How to start running when you've never run before: Begin with walking. For the first two weeks, walk briskly for thirty minutes three times a week. Then alternate one minute of slow jogging with two minutes of walking, eight times. Each week, lengthen the jogging and shorten the walking a little. Run at a pace where you could still talk in short sentences. Rest days are part of the plan, not a failure. Most people can run thirty minutes continuously after about eight to ten weeks.
===
Setting up a simple budget
- Write down your monthly take-home pay.
- List fixed costs: rent, utilities, insurance, loan payments.
- Look back at three months of bank statements to estimate food, transport and other spending.
- Decide on an amount to save and move it on payday, before you spend.
- Give yourself a small "no questions asked" amount for fun.
- Review at the end of each month and adjust; budgets are drafts, not contracts.
===
To make a paper airplane that glides well, start with a sheet of A4 or letter paper. Fold it in half lengthwise and unfold. Fold the two top corners to the center crease to make a point. Fold the new slanted edges to the center again, so the nose is sharper. Fold the plane in half along the original crease, with the folds on the outside. Fold each wing down so its top edge lines up with the bottom of the body. Give the wing tips a tiny upward bend and throw gently, level, not upward.
===
How to wash a wool sweater by hand
1. Fill a basin with cool water and a small squirt of wool wash or mild shampoo.
2. Turn the sweater inside out and submerge it; press gently, don't rub or wring.
3. Soak for ten minutes.
4. Drain and refill with clean cool water to rinse, pressing again.
5. Roll it in a thick towel and press to remove water.
6. Lay it flat on a dry towel, shape it to its original size, and let it dry away from heat.
===
Basic rice on the stove: Rinse one cup of white rice in a sieve until the water runs mostly clear. Put it in a pot with one and a half cups of water and a pinch of salt. Bring to a boil, then turn the heat to the lowest setting and cover tightly. Cook for fifteen minutes without lifting the lid. Take it off the heat and let it sit, still covered, for ten more minutes. Fluff with a fork. For brown rice, use two cups of water and about forty minutes.
===
How to reset a forgotten router password
- Find the small reset hole on the back of the router.
- With the router on, press and hold the button inside with a paperclip for about ten seconds, until the lights flash.
- Wait two or three minutes for it to restart.
- Connect using the default network name and password printed on the label underneath.
- Open the admin page in a browser and set a new admin password and Wi-Fi password right away.
Write the new ones down somewhere safe.
===
Before you paint a room, move furniture to the middle and cover it with a sheet. Wash the walls with a damp sponge and let them dry. Fill holes with filler, let it harden and sand it smooth. Apply painter's tape to skirting boards, window frames and switches. Paint the edges and corners first with a brush, a strip about five centimeters wide, then roll the large areas while the edges are still wet. Two thin coats look better than one thick one. Pull the tape off before the second coat dries completely.
===
Easy banana bread
1. Heat the oven to 175°C and line a loaf tin.
2. Mash three very ripe bananas in a large bowl.
3. Stir in 75 g melted butter, 100 g brown sugar, one egg and a teaspoon of vanilla.
4. Add 190 g flour, one teaspoon of baking soda and a pinch of salt; mix just until combined.
5. Fold in a handful of walnuts or chocolate chips if you like.
6. Bake 55–65 minutes, until a skewer comes out clean. Cool before slicing.
===
How to make a good first impression on a video call: Put the camera at eye level by stacking a few books under your laptop. Sit facing a window or lamp so the light falls on your face, not behind you. Check what's visible in the background. Use headphones to avoid echo. Join a minute early, mute when you're not speaking in a large meeting, and look at the camera, not your own image, when you're making an important point.
===
Composting at home
- Choose a bin with a lid and place it on bare soil in a partly shady spot.
- Add "greens": fruit and vegetable scraps, coffee grounds, fresh grass clippings.
- Add "browns": dry leaves, shredded cardboard, egg boxes, straw.
- Aim for roughly two to three times as much brown as green by volume.
- Keep it as damp as a wrung-out sponge and turn it every few weeks.
- Skip meat, dairy and oily food, which attract pests.
Compost is ready when it's dark, crumbly and smells like earth.
===
To stop a dripping tap, first turn off the water supply under the sink and open the tap to drain it. Plug the sink so no small parts fall down the drain. Remove the decorative cap on the handle, unscrew the handle, then use a wrench to loosen the packing nut and pull out the valve stem. At the bottom you'll find a rubber washer held by a screw. Replace it with one of the same size, reassemble everything in reverse order, and turn the water back on slowly.
===
A simple routine for learning vocabulary in a new language
1. Learn words in short phrases, not alone: "a cup of tea," not "cup."
2. Add ten new items a day to a flashcard app with spaced repetition.
3. Review every day, even for five minutes; consistency beats long sessions.
4. Say each card out loud.
5. Once a week, write a short paragraph using words from that week.
6. Delete cards you'll never use. Your time is better spent elsewhere.
===
How to make cold brew coffee: Coarsely grind 100 grams of coffee, about as coarse as breadcrumbs. Put it in a large jar and pour over one liter of cold filtered water. Stir to wet all the grounds, cover, and leave at room temperature for 12 to 18 hours. Strain through a fine sieve lined with a paper filter or cloth. The result is a concentrate: dilute it one to one with water or milk and serve over ice. It keeps in the fridge for about a week.
===
Safe ladder use
- Check the ladder for cracks, loose rungs or bent feet before each use.
- Set it on firm, level ground; never on boxes or a table.
- For an extension ladder, the base should be one meter out for every four meters of height.
- Keep three points of contact: two hands and a foot, or two feet and a hand.
- Don't stand on the top two rungs.
- Move the ladder instead of leaning out sideways.
===
How to calm down when you feel panicky: Breathe out slowly and fully, as if blowing through a straw, then let the next breath come in through your nose. Try breathing in for four counts and out for six. Name five things you can see, four you can hear, three you can touch. Put your feet flat on the floor and notice the pressure. Remind yourself that the feeling is uncomfortable but passes, usually within minutes. If panic attacks keep happening, talk to a doctor; they are very treatable.
===
Making a simple herb planter for a windowsill
1. Choose a container at least 15 cm deep with drainage holes, and a saucer.
2. Fill with potting mix, leaving two centimeters below the rim.
3. Plant small starter plants of basil, parsley and chives, or sow seeds thinly.
4. Water until it drains, then only when the top of the soil feels dry.
5. Put it in the sunniest window you have.
6. Pinch off the tops of basil regularly so it grows bushy instead of tall.
===
To make your own flatbread, mix 250 grams of flour, a teaspoon of baking powder, half a teaspoon of salt, 150 grams of plain yogurt and a tablespoon of olive oil. Knead for two minutes until smooth, then rest for fifteen minutes. Divide into six balls and roll each one thin. Cook in a hot dry pan for about a minute on each side, until puffed and spotted brown. Brush with garlic butter while warm and stack them under a clean towel to keep soft.
===
How to study for an exam more effectively
- Test yourself instead of rereading: close the book and write what you remember.
- Spread study over several days; short daily sessions beat one long night.
- Mix different types of problems in one session.
- Explain each topic out loud as if teaching a friend.
- Start with old exam papers, under timed conditions.
- Sleep the night before. Memory is consolidated during sleep, not at 3 a.m.
===
Cleaning a laptop keyboard safely: Turn the laptop off and unplug it. Hold it upside down at an angle and tap the back gently to shake out crumbs. Use a can of compressed air in short bursts, held upright, working row by row. Dampen a microfiber cloth very lightly with isopropyl alcohol and wipe the tops of the keys. Use a cotton swab for the gaps. Never spray liquid directly onto the keyboard, and let it dry completely before turning the laptop back on.
===
How to host a simple dinner for six without stress
1. Choose one main dish you've cooked before, not a new experiment.
2. Make dessert the day before.
3. Buy a good bread and a cheese, so there's something to eat if the main is late.
4. Set the table in the afternoon.
5. Prepare a big salad and leave it undressed until serving.
6. Accept help when guests offer; give them a specific small job.
Nobody remembers perfect food as much as a relaxed host.
===
To remove a red wine stain from a cotton tablecloth, act quickly. Blot, don't rub, with a clean cloth to lift as much wine as you can. Sprinkle the stain generously with salt and leave it for a few minutes to draw the liquid out. Brush off the salt, then stretch the fabric over a bowl and pour boiling water through the stain from a height. For anything left, soak in cold water with an oxygen-based stain remover before washing as usual. Don't put it in the dryer until the stain is gone.
===
Planting a tree
- Dig a hole two to three times wider than the root ball but no deeper.
- Loosen the roots if they are circling the pot.
- Set the tree so the point where the trunk flares out sits at or slightly above ground level.
- Backfill with the soil you removed; don't add rich compost to the hole.
- Water deeply, then spread mulch in a wide ring, keeping it away from the trunk.
- Water every week for the first summer unless it rains well.
===
How to write a thank-you note: Start with the person's name and thank them for the specific gift or favor. Say one thing about why it mattered to you or how you'll use it: "The blue scarf has already been through two cold bus rides with me." Mention them, not just the object, if you can: a memory, a hope to see them soon. Close warmly and sign by hand. Three or four sentences is plenty. Send it within a week or two; late is still better than never.
===
Making a quick stir-fry
1. Prepare everything first: slice vegetables thinly, cut protein into bite-sized pieces, mix the sauce.
2. For the sauce: 2 tbsp soy sauce, 1 tbsp rice vinegar, 1 tsp sugar, 1 tsp cornstarch, 3 tbsp water.
3. Heat a wok or large pan until very hot, add a little oil.
4. Cook the protein until browned, then remove it.
5. Stir-fry garlic and ginger for 30 seconds, then the vegetables for 2–3 minutes.
6. Return the protein, add the sauce, and toss until glossy.
===
How to measure flour correctly without a scale: Stir the flour in the bag or jar to loosen it. Use a spoon to lightly fill the measuring cup until it's heaped, without shaking or tapping the cup. Sweep a flat knife across the top to level it. Scooping straight from the bag packs the flour down and can add as much as twenty-five percent more than the recipe intends, which is a common reason for dry cakes and tough cookies.
===
Getting ready for a long hike
- Check the weather forecast and the time of sunset.
- Tell someone your route and when you expect to be back.
- Carry more water than you think you need, plus a snack for every two hours.
- Pack a warm layer, a rain jacket, a small first-aid kit and a headlamp.
- Download an offline map; phones lose signal in valleys.
- Break in new boots before the day, not on the trail.
===
To care for a wooden cutting board, wash it by hand with hot soapy water right after use and dry it standing on its edge. Never leave it soaking or put it in the dishwasher; it will warp and crack. Once a month, or whenever it looks pale and dry, rub in a thin layer of food-safe mineral oil with a cloth, leave it overnight, and wipe off the excess. To remove smells, scrub with coarse salt and half a lemon.
===
Basic tent pitching
1. Choose flat ground, clear stones and sticks, and check for dead branches overhead.
2. Lay the groundsheet down, then the tent on top, door facing away from the wind.
3. Assemble the poles and slide or clip them into place.
4. Raise the tent and peg out the corners at a 45-degree angle, leaning away from the tent.
5. Put the rain fly on and tighten the guy lines so the fabric doesn't touch the inner tent.
Practice once in your garden before the trip.
===
How to make iced tea that isn't bitter: Put four black tea bags in a large jug and add one liter of cold water. Cover and refrigerate for eight to twelve hours. Cold brewing extracts fewer of the bitter tannins that make hot-brewed iced tea taste harsh. Remove the bags without squeezing them. Sweeten, if you like, with simple syrup, which dissolves better than sugar in cold liquid. Serve with ice, lemon slices and a few mint leaves.
===
Writing a good password
- Use a passphrase of four or more unrelated words: "lantern-biscuit-orbit-moss."
- Make every important account's password different.
- Use a password manager so you only need to remember one strong passphrase.
- Turn on two-factor authentication wherever it's offered, especially for email.
- Never reuse your email password anywhere else; it's the key to resetting everything.
===
To season a new wok, wash it with hot soapy water to remove the factory coating, then dry it over the flame. Turn the heat high and let the metal heat until it changes color, tilting it so the sides heat too; it will turn blue or bronze. Let it cool slightly, then wipe a thin layer of high-smoke-point oil all over the inside with a folded paper towel held in tongs. Heat until it smokes and the oil darkens. Repeat three or four times. The surface will keep improving the more you cook with it.
===
How to teach a dog to sit
1. Hold a small treat close to the dog's nose.
2. Slowly move your hand up and slightly back over its head.
3. As its head follows the treat, its bottom will naturally lower.
4. The moment it sits, say "yes" and give the treat.
5. Repeat five or six times in a short session, a few sessions a day.
6. Once it's reliable, add the word "sit" just before you move your hand.
Keep it fun and stop before the dog gets bored.
===
Making a French omelette: Beat three eggs with a pinch of salt until completely uniform. Heat a nonstick pan over medium heat with a knob of butter until it foams but doesn't brown. Pour in the eggs and immediately stir with a spatula while shaking the pan, so you get small soft curds. When the eggs are mostly set but still glossy on top, stop stirring and let the bottom set for a few seconds. Tilt the pan, roll the omelette onto itself, and tip it seam-side down onto a warm plate.
===
How to prepare for a power outage
- Keep a flashlight and spare batteries where you can find them in the dark.
- Store several liters of drinking water per person.
- Have food that needs no cooking: canned beans, crackers, peanut butter, dried fruit.
- Keep phones charged and a power bank topped up when storms are forecast.
- Know how to open your garage door manually.
- Keep the fridge closed during an outage; it stays cold for about four hours.
===
How to read a nutrition label quickly: Start with the serving size, because every number below refers to it, and packages often contain two or three servings. Look at calories per serving. Then check fiber and protein, which most people want more of, and added sugars, saturated fat and sodium, which most people want less of. The percent daily value column helps: five percent or less is low, twenty percent or more is high. Finally, scan the ingredients; they are listed from most to least by weight.
===
Making simple syrup for drinks
1. Combine equal volumes of sugar and water in a small saucepan.
2. Heat gently, stirring, until the sugar dissolves completely. It doesn't need to boil.
3. Let it cool, then pour into a clean bottle.
4. For flavored syrup, add a handful of mint, a few strips of citrus peel, or sliced ginger while it cools, then strain.
5. Keep it in the fridge for up to a month.
===
To create a weekly meal plan, start by checking what you already have in the fridge and freezer. Pick four or five dinners, not seven; leftovers and a night out will fill the gaps. Choose at least two that share ingredients, so that a bunch of coriander or a bag of spinach doesn't go to waste. Write the plan where everyone can see it, then make one shopping list organized by the layout of your supermarket. Cook a double batch of something on Sunday and freeze half.
===
How to make a simple hummus
1. Drain a can of chickpeas, saving the liquid.
2. Blend the chickpeas with 3 tablespoons of tahini, the juice of one lemon, one small garlic clove and a pinch of salt.
3. Add 2–4 tablespoons of the saved liquid while blending, until it's smooth and creamy.
4. Taste and adjust lemon and salt.
5. Spoon into a bowl, make a swirl with the back of the spoon, and fill it with olive oil and a sprinkle of paprika.
===
To write a short, clear email, decide what you want the reader to do before you start. Put that request in the first two lines, not the last paragraph. Use a subject line that says what the email is about and whether there's a deadline. Keep paragraphs short, and if there are several questions, number them so they can be answered one by one. Read it once before sending and cut any sentence that doesn't help the reader act.
===
Tying a bowline knot
1. Make a small loop in the rope, with the working end lying on top.
2. Pass the working end up through the loop from underneath ("the rabbit comes out of the hole").
3. Take it around behind the standing part of the rope ("around the tree").
4. Bring it back down through the small loop ("back down the hole").
5. Hold the working end and loop together and pull the standing part to tighten.
The bowline makes a fixed loop that won't slip and is easy to untie.
===
How to get a splinter out: Wash your hands and the area with soap and water. If the end of the splinter is sticking out, grip it with clean tweezers and pull it out slowly at the same angle it went in. If it's under the skin, sterilize a needle with rubbing alcohol and gently lift the skin over the end of the splinter until you can grab it. Wash the area again afterwards and cover it with a plaster. See a doctor if it's very deep or the area becomes red and swollen.
===
Making a fruit crumble
1. Heat the oven to 190°C.
2. Put about 800 g of chopped fruit (apples, plums, rhubarb or berries) in a baking dish with 2 tablespoons of sugar.
3. Rub 100 g cold butter into 150 g flour with your fingertips until it looks like breadcrumbs.
4. Stir in 75 g sugar and a handful of oats.
5. Scatter the topping over the fruit without pressing it down.
6. Bake 35–40 minutes until golden and bubbling at the edges. Serve with custard or cream.
===
To take better phone photos, clean the lens first with a soft cloth; a greasy fingerprint is the most common cause of hazy pictures. Turn on the grid lines and place your subject on one of the lines rather than dead center. Shoot with light coming from the side or behind you, not behind your subject. Tap the screen on your subject to set focus and exposure. Get closer instead of zooming. And take a few shots, because the second or third is often better.
===
How to make your own cleaning spray
- Fill a clean spray bottle with one part white vinegar and one part water.
- Add a few strips of lemon peel or a sprig of rosemary for a nicer smell.
- Let it sit a day before using.
- Use it on windows, taps, tiles and kitchen counters.
- Don't use it on natural stone such as marble or granite; the acid can dull the surface.
- Never mix it with bleach.
===
Preparing for a marathon in the last week
1. Cut your running mileage to about a third of your peak week.
2. Keep a couple of short runs with a few minutes at race pace.
3. Eat normally, with a bit more carbohydrate in the last two days.
4. Don't try new shoes, new food or new kit on race day.
5. Lay out everything the night before, including safety pins for your number.
6. Start slower than you think you should. The second half is where races are won.
===
How to make a quick pickle: Thinly slice a cucumber, a few radishes or a red onion and pack them into a clean jar. In a small pan, heat 120 ml of vinegar, 120 ml of water, a tablespoon of sugar and a teaspoon of salt until dissolved. Add a few peppercorns, a bay leaf or some dill if you like. Pour the hot liquid over the vegetables, close the jar and let it cool. They're ready to eat in an hour and keep in the fridge for about two weeks.
===
How to change a duvet cover without a fight
1. Turn the cover inside out.
2. Put your hands inside and grab the two far corners.
3. With your hands still inside, grab the two top corners of the duvet through the cover.
4. Shake, so the cover falls down over the duvet, turning the right way out.
5. Find the bottom corners, line them up, and close the buttons or zip.
6. Give it a final shake from the top.
'''

LIST_TEXTS = r'''
Five houseplants that are hard to kill
1. Snake plant: tolerates low light and forgetful watering.
2. Pothos: trails happily from a shelf and tells you it's thirsty by drooping.
3. ZZ plant: glossy leaves, stores water in its roots, thrives on neglect.
4. Spider plant: grows fast and produces babies you can give to friends.
5. Cast iron plant: the name says it all.
===
Things I learned in my first year of teaching
- Learn every name in the first week, whatever it takes.
- Keep spare pencils. Then keep spare spare pencils.
- The quiet kid in the corner is listening to everything.
- Never promise a pizza party unless you mean it.
- Parents are mostly scared, not angry.
- Write things down; you will not remember them on Friday.
- Sit down and eat lunch. Every day.
===
Top 10 things to do on a rainy Sunday
1. Bake bread and let the house smell of it.
2. Finish the jigsaw puzzle that's been on the table since Easter.
3. Write a letter to someone who doesn't expect one.
4. Watch an old film you've been meaning to see.
5. Reorganize one shelf, not the whole house.
6. Make soup from whatever is in the fridge.
7. Read in a bath until the water goes cold.
8. Call your grandparents.
9. Nap without guilt.
10. Go outside for ten minutes anyway and get properly wet.
===
Reasons to keep a notebook
- Ideas arrive at bad times and leave quickly.
- Writing things down helps you see what you actually think.
- Lists make big days feel smaller.
- Future you will enjoy reading it.
- It doesn't need charging, never crashes and works on planes.
- Sketching a problem often solves it.
- You can tear out a page, fold it into a boat, and give it to a child.
===
Seven words that are hard to translate
1. Hygge (Danish): a cozy, contented feeling, often with friends and candles.
2. Saudade (Portuguese): a longing for something or someone absent.
3. Komorebi (Japanese): sunlight filtering through leaves.
4. Sobremesa (Spanish): lingering at the table after a meal, talking.
5. Gökotta (Swedish): waking early to hear the first birds.
6. Tsundoku (Japanese): buying books and letting them pile up unread.
7. Fernweh (German): a longing for faraway places.
===
Emergency kit checklist
[ ] Water, 3 liters per person per day, for 3 days
[ ] Non-perishable food and a can opener
[ ] Flashlight and spare batteries
[ ] Battery or crank radio
[ ] First-aid kit and any prescription medicines
[ ] Copies of ID and insurance papers in a waterproof bag
[ ] Cash in small notes
[ ] Phone charger and power bank
[ ] Whistle, dust masks, plastic sheeting and tape
[ ] Blankets and a change of clothes
===
Birds seen at the feeder this week
- Blue tits (at least four, always arguing)
- Great tit
- Robin, who refuses to use the feeder and eats off the ground
- Goldfinches, a flock of six on Thursday
- One greater spotted woodpecker, Tuesday morning, very brief
- House sparrows, too many to count
- A sparrowhawk, which explained the sudden silence on Friday
===
Things my grandfather always said
1. "Measure twice, cut once."
2. "If it's free, you're paying somehow."
3. "Never trust a man who doesn't like dogs."
4. "A cold nose means the soup needs more pepper."
5. "Don't run for a bus. There'll be another."
6. "Leave every campsite better than you found it."
7. "Write to your mother."
===
The best things about autumn, ranked
1. The first morning you need a scarf
2. Leaves crunching underfoot
3. Soup season officially opens
4. Apples that taste like apples
5. The smell of woodsmoke in the evening
6. Wearing the big sweater without shame
7. Early darkness that makes lamps look cozy
8. Pumpkins on every doorstep
9. No more mosquitoes
===
Common mistakes when starting a vegetable garden
- Planting too much at once, then weeding nothing.
- Choosing a shady spot because it's convenient.
- Forgetting that courgettes will produce ten times more than anyone wants.
- Watering a little every day instead of deeply twice a week.
- Not labeling seeds, then not knowing what's coming up.
- Planting everything on the same weekend, so it's all ready at once.
- Giving up after the first slug attack.
===
Favorite sounds, in no particular order
- rain on a tent at night
- a kettle coming to the boil
- the click of a seatbelt at the start of a road trip
- bicycle tires on wet gravel
- a crowd going quiet before a concert
- the first bird in the morning
- a cat purring on your chest
- pages turning in a library
- someone laughing in the next room
===
Questions to ask before adopting a dog
1. How many hours a day will it be alone?
2. Who will walk it when it's raining at 6 a.m.?
3. Is the home big enough for the breed's energy?
4. Is everyone in the household on board?
5. Can we afford food, vet bills and insurance for 10–15 years?
6. What happens when we go on holiday?
7. Are we ready for chewed shoes, at least for a while?
===
Kitchen staples worth always having
- Eggs
- Onions and garlic
- A can of chopped tomatoes
- Pasta and rice
- Lemons
- Good olive oil
- Hard cheese that keeps for weeks
- Frozen peas
- Stock cubes
- Chili flakes
With these you can make a decent dinner on almost any night.
===
Things to do before a long flight
- Check in online and download the boarding pass.
- Download films, podcasts and offline maps.
- Charge the phone, headphones and power bank.
- Pack a refillable water bottle (empty through security).
- Put a toothbrush, socks and a sweater in your carry-on.
- Set your watch to the destination time when you board.
- Tell someone your flight number.
===
Great first lines for a story you haven't written yet
- The letter arrived forty years late, and it was addressed to me.
- Nobody in the village had ever seen the lighthouse turned off.
- My sister sold our house while I was at the supermarket.
- The elevator opened on a floor that wasn't there yesterday.
- On the morning of her hundredth birthday, Nan announced she was leaving.
- The cat came back wearing a different collar.
===
Weekly cleaning rota
Monday: bathrooms (sinks, toilet, mirror)
Tuesday: dust living room and bedrooms
Wednesday: laundry, change bed sheets
Thursday: kitchen deep clean, wipe fridge shelves
Friday: vacuum and mop all floors
Saturday: take out recycling, water plants, tidy entrance
Sunday: rest. Seriously.
Whoever breaks a rule makes dinner.
===
Small ways to be kinder at work
- Learn the names of the cleaners and the security staff.
- Say thank you in writing, not just in passing.
- Don't schedule meetings at lunchtime.
- Share credit in public, give criticism in private.
- Bring in snacks on a bad day.
- Ask the new person to join you for coffee.
- Answer emails from junior colleagues as quickly as from senior ones.
===
Things found while clearing out the attic
- a rocking horse missing one ear
- two boxes of Christmas decorations, one of them empty
- my father's school report from 1962 ("talks too much")
- a sewing machine that still works
- eleven jam jars
- a wedding dress in a garment bag, not my mother's
- a shoebox of letters tied with string
- a wasp nest, thankfully abandoned
===
Ten foods to try in Lisbon
1. Pastel de nata, still warm
2. Grilled sardines in June
3. Bifana, a pork sandwich with mustard
4. Bacalhau à brás
5. Caldo verde soup
6. Ginjinha, a cherry liqueur, in a chocolate cup
7. Cheese from the Serra da Estrela
8. Clams in garlic and coriander
9. Piri-piri chicken
10. Queijadas from Sintra
===
Why I like trains better than planes
- You can see the landscape change.
- Nobody measures your shampoo.
- You can walk around and find a coffee.
- Stations are usually in the middle of town.
- The seats are bigger.
- You arrive without the sensation of having been folded.
- There's always someone with an interesting sandwich.
===
Podcast episode ideas
1. The history of the paperclip
2. Why do we clap?
3. Interview with a lighthouse keeper
4. Every theory about the Loch Ness monster, ranked
5. What happens to lost luggage
6. A day in the life of a zookeeper
7. The science of hiccups
8. Forgotten inventions of the 1800s
9. How crosswords are made
===
Year 3 classroom rules (written by the class)
1. Listen when someone is talking.
2. Keep your hands to yourself.
3. Put things back where you found them.
4. Be kind on the playground, even to people who aren't your friends.
5. Try your best, and it's okay to make mistakes.
6. Don't feed the class fish more than once a day (Goldie is full).
7. Have fun.
===
Things that are better than they sound
- Cold pizza for breakfast
- Getting lost in a new city
- Swimming in the sea in October
- A night with no phone
- Writing a letter by hand
- Reading the last page of a book first
- Walking home in the rain when you don't have to be anywhere
- Sitting in silence with an old friend
===
Garden jobs for March
- Sow tomatoes, peppers and chillies indoors on a warm windowsill.
- Cut back last year's dead stems from perennials.
- Lift and divide crowded clumps of snowdrops after flowering.
- Plant onion sets and shallots.
- Mulch borders while the soil is damp.
- Clean out bird boxes before nesting starts.
- Check the lawnmower and get the blades sharpened.
===
Best board games for two players
1. Patchwork: quilting has never been so competitive.
2. Jaipur: trading camels and spices in a quick card game.
3. Hive: like chess with insects, no board needed.
4. Lost Cities: a card game about expeditions and risk.
5. Sky Team: cooperative landing of a plane, tense and clever.
6. Carcassonne: works beautifully with two.
7. Chess: still undefeated.
'''

CODE_TEXTS = r'''
def word_counts(path):
    """Count how often each word appears in a text file."""
    counts = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            for word in line.lower().split():
                word = word.strip(".,;:!?\"'()")
                if word:
                    counts[word] = counts.get(word, 0) + 1
    return counts

# print the ten most common words
top = sorted(word_counts("notes.txt").items(), key=lambda kv: -kv[1])[:10]
for word, n in top:
    print(f"{word:15} {n}")
===
// Debounce: only call fn after the user stops typing for `wait` ms
function debounce(fn, wait = 300) {
  let timer = null;
  return function (...args) {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}

const search = document.querySelector("#search");
search.addEventListener("input", debounce((event) => {
  console.log("searching for", event.target.value);
}, 250));
===
-- Top five customers by total spending in 2023
SELECT c.id,
       c.name,
       SUM(o.total) AS spent
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE o.created_at >= '2023-01-01'
  AND o.created_at <  '2024-01-01'
GROUP BY c.id, c.name
ORDER BY spent DESC
LIMIT 5;
===
#!/usr/bin/env bash
# Back up the photos folder into a dated tar archive.
set -euo pipefail

src="$HOME/Pictures"
dest="/mnt/backup"
stamp=$(date +%Y-%m-%d)

mkdir -p "$dest"
tar -czf "$dest/photos-$stamp.tar.gz" -C "$src" .
echo "Saved $dest/photos-$stamp.tar.gz"

# keep only the 7 newest archives
ls -1t "$dest"/photos-*.tar.gz | tail -n +8 | xargs -r rm --
===
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Bake Sale</title>
  <!-- simple styles inline for now -->
  <style>body { font-family: sans-serif; max-width: 40em; margin: auto; }</style>
</head>
<body>
  <h1>Saturday Bake Sale</h1>
  <p>Join us at the community hall from 10am to 2pm.</p>
  <ul>
    <li>Lemon drizzle cake</li>
    <li>Oat and raisin cookies</li>
  </ul>
</body>
</html>
===
#include <stdio.h>

/* Print a temperature conversion table, Fahrenheit to Celsius. */
int main(void)
{
    int lower = 0, upper = 300, step = 20;

    for (int f = lower; f <= upper; f += step) {
        double c = (5.0 / 9.0) * (f - 32);
        printf("%3d %6.1f\n", f, c);
    }
    return 0;
}
===
from dataclasses import dataclass, field

@dataclass
class ShoppingCart:
    items: dict = field(default_factory=dict)

    def add(self, name, price, qty=1):
        # store (price, quantity); adding the same item increases quantity
        old_price, old_qty = self.items.get(name, (price, 0))
        self.items[name] = (old_price, old_qty + qty)

    def total(self):
        return sum(price * qty for price, qty in self.items.values())

cart = ShoppingCart()
cart.add("apples", 0.5, 6)
cart.add("bread", 2.25)
print(f"Total: {cart.total():.2f}")
===
// Fetch a user's repositories and print their names, newest first
async function listRepos(user) {
  const res = await fetch(`https://api.example.com/users/${user}/repos`);
  if (!res.ok) {
    throw new Error(`Request failed: ${res.status}`);
  }
  const repos = await res.json();
  repos
    .sort((a, b) => new Date(b.updated_at) - new Date(a.updated_at))
    .forEach((repo) => console.log(repo.name));
}

listRepos("octo-cat").catch(console.error);
===
CREATE TABLE books (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    author      TEXT NOT NULL,
    year        INTEGER,
    isbn        TEXT UNIQUE,
    -- NULL means the book is on the shelf
    borrowed_by INTEGER REFERENCES members(id)
);

CREATE INDEX idx_books_author ON books (author);
===
def is_palindrome(text: str) -> bool:
    """Return True if text reads the same backwards, ignoring case and punctuation."""
    letters = [ch.lower() for ch in text if ch.isalnum()]
    return letters == letters[::-1]


assert is_palindrome("A man, a plan, a canal: Panama")
assert is_palindrome("Was it a car or a cat I saw?")
assert not is_palindrome("Hello, world")
print("all checks passed")
===
#!/bin/sh
# Rename every .jpeg file in the current folder to .jpg
for f in *.jpeg; do
    [ -e "$f" ] || continue          # no matches: skip
    new="${f%.jpeg}.jpg"
    if [ -e "$new" ]; then
        echo "skipping $f: $new already exists" >&2
    else
        mv -- "$f" "$new"
    fi
done
===
#include <stdio.h>
#include <string.h>

/* Reverse a string in place. */
void reverse(char *s)
{
    size_t i = 0, j = strlen(s);
    if (j == 0)
        return;
    for (j--; i < j; i++, j--) {
        char tmp = s[i];
        s[i] = s[j];
        s[j] = tmp;
    }
}

int main(void)
{
    char word[] = "lantern";
    reverse(word);
    printf("%s\n", word);   /* prints "nretnal" */
    return 0;
}
===
import csv
from collections import defaultdict

# Sum expenses per category from a CSV with columns: date,category,amount
totals = defaultdict(float)
with open("expenses.csv", newline="") as fh:
    for row in csv.DictReader(fh):
        totals[row["category"]] += float(row["amount"])

for category, amount in sorted(totals.items(), key=lambda kv: kv[1], reverse=True):
    print(f"{category:<12} {amount:>8.2f}")
===
// Simple counter with a button, no framework
const button = document.createElement("button");
let clicks = 0;

function render() {
  button.textContent = clicks === 1 ? "Clicked once" : `Clicked ${clicks} times`;
}

button.addEventListener("click", () => {
  clicks += 1;
  render();
});

render();
document.body.appendChild(button);
===
-- Find members with overdue books and how many days late they are
SELECT m.name,
       b.title,
       julianday('now') - julianday(l.due_date) AS days_late
FROM loans l
JOIN members m ON m.id = l.member_id
JOIN books b   ON b.id = l.book_id
WHERE l.returned_at IS NULL
  AND l.due_date < date('now')
ORDER BY days_late DESC;
===
def fibonacci(n):
    """Yield the first n Fibonacci numbers."""
    a, b = 0, 1
    for _ in range(n):
        yield a
        a, b = b, a + b


print(list(fibonacci(12)))
# [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]

# ratio of consecutive numbers approaches the golden ratio
nums = list(fibonacci(30))
print(nums[-1] / nums[-2])
===
<form action="/subscribe" method="post">
  <!-- newsletter signup -->
  <label for="email">Email address</label>
  <input type="email" id="email" name="email" required placeholder="you@example.com">

  <label>
    <input type="checkbox" name="weekly" checked>
    Send me the weekly digest
  </label>

  <button type="submit">Subscribe</button>
</form>
===
# Find the largest files under the current directory (top 10)
find . -type f -printf '%s %p\n' 2>/dev/null \
  | sort -nr \
  | head -n 10 \
  | awk '{ printf "%8.1f MB  %s\n", $1 / 1048576, $2 }'

# Disk usage per top-level folder, human readable, sorted
du -sh -- */ 2>/dev/null | sort -h
===
import random

def roll(dice="2d6"):
    """Roll dice written as NdM, e.g. '3d8', and return the total."""
    count, sides = (int(x) for x in dice.lower().split("d"))
    rolls = [random.randint(1, sides) for _ in range(count)]
    print(f"{dice}: {rolls}")
    return sum(rolls)

random.seed(7)   # same results every run
total = roll("3d6") + roll("1d4")
print("total damage:", total)
===
#include <stdio.h>

/* Count lines, words and characters read from standard input. */
int main(void)
{
    int c, lines = 0, words = 0, chars = 0, in_word = 0;

    while ((c = getchar()) != EOF) {
        chars++;
        if (c == '\n')
            lines++;
        if (c == ' ' || c == '\n' || c == '\t') {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            words++;
        }
    }
    printf("%d %d %d\n", lines, words, chars);
    return 0;
}
===
// Group an array of objects by a key
function groupBy(items, key) {
  return items.reduce((groups, item) => {
    const value = item[key];
    (groups[value] ||= []).push(item);
    return groups;
  }, {});
}

const pets = [
  { name: "Miso", kind: "cat" },
  { name: "Rex", kind: "dog" },
  { name: "Tofu", kind: "cat" },
];
console.log(groupBy(pets, "kind"));
// { cat: [Miso, Tofu], dog: [Rex] }
===
from pathlib import Path

def tidy_downloads(folder="~/Downloads"):
    """Move files into subfolders named after their extension."""
    root = Path(folder).expanduser()
    for item in root.iterdir():
        if not item.is_file():
            continue
        ext = item.suffix.lower().lstrip(".") or "no_extension"
        target = root / ext
        target.mkdir(exist_ok=True)
        item.rename(target / item.name)

if __name__ == "__main__":
    tidy_downloads()
===
-- Monthly active users: distinct users with at least one event per month
SELECT strftime('%Y-%m', occurred_at) AS month,
       COUNT(DISTINCT user_id)        AS active_users
FROM events
WHERE occurred_at >= date('now', '-12 months')
GROUP BY month
ORDER BY month;
===
class Stack:
    """A minimal stack backed by a Python list."""

    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        if not self._items:
            raise IndexError("pop from empty stack")
        return self._items.pop()

    def peek(self):
        return self._items[-1] if self._items else None

    def __len__(self):
        return len(self._items)
===
def balanced(expr):
    """Check that (), [] and {} are properly nested."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for ch in expr:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return not stack

print(balanced("f(a[1], {b: 2})"))   # True
print(balanced("(]"))                 # False
===
#!/usr/bin/env bash
# Wait for a web service to come up, then print its health status.
url="${1:-http://localhost:8080/health}"

for attempt in $(seq 1 30); do
    if curl -fsS "$url" > /dev/null; then
        echo "service is up after $attempt attempt(s)"
        curl -s "$url"
        exit 0
    fi
    sleep 2
done

echo "service did not start in time" >&2
exit 1
===
<table>
  <caption>Library opening hours</caption>
  <thead>
    <tr><th>Day</th><th>Opens</th><th>Closes</th></tr>
  </thead>
  <tbody>
    <tr><td>Monday</td><td>9:00</td><td>18:00</td></tr>
    <tr><td>Wednesday</td><td>9:00</td><td>20:00</td></tr>
    <tr><td>Saturday</td><td>10:00</td><td>16:00</td></tr>
    <!-- closed on Sundays -->
  </tbody>
</table>
===
// Shuffle an array in place (Fisher–Yates)
function shuffle(array) {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}

const deck = ["A♠", "K♥", "Q♦", "J♣", "10♠"];
console.log(shuffle(deck));
===
#include <stdlib.h>

/* A singly linked list node and a function to prepend a value. */
struct node {
    int value;
    struct node *next;
};

struct node *push_front(struct node *head, int value)
{
    struct node *n = malloc(sizeof *n);
    if (n == NULL)
        return head;            /* out of memory: leave list unchanged */
    n->value = value;
    n->next = head;
    return n;
}
===
import json
from datetime import date

# Save and load a tiny to-do list as JSON
todos = [
    {"task": "renew passport", "due": date(2024, 5, 1).isoformat(), "done": False},
    {"task": "call the plumber", "due": None, "done": True},
]

with open("todos.json", "w") as fh:
    json.dump(todos, fh, indent=2)

with open("todos.json") as fh:
    for item in json.load(fh):
        mark = "x" if item["done"] else " "
        print(f"[{mark}] {item['task']}")
===
-- Average rating per film, only films with at least 20 reviews
SELECT f.title,
       ROUND(AVG(r.stars), 2) AS avg_stars,
       COUNT(*)               AS reviews
FROM films f
JOIN reviews r ON r.film_id = f.id
GROUP BY f.id, f.title
HAVING COUNT(*) >= 20
ORDER BY avg_stars DESC, reviews DESC;
===
def primes_up_to(limit):
    """Sieve of Eratosthenes: return all primes <= limit."""
    if limit < 2:
        return []
    is_prime = [True] * (limit + 1)
    is_prime[0] = is_prime[1] = False
    for n in range(2, int(limit ** 0.5) + 1):
        if is_prime[n]:
            # cross out multiples, starting at n*n
            is_prime[n * n :: n] = [False] * len(range(n * n, limit + 1, n))
    return [n for n, prime in enumerate(is_prime) if prime]

print(primes_up_to(50))
===
// Format a number of seconds as H:MM:SS
function formatDuration(totalSeconds) {
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = Math.floor(totalSeconds % 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

console.log(formatDuration(75));     // "1:15"
console.log(formatDuration(3725));   // "1:02:05"
===
#!/usr/bin/env bash
# Count how many times each HTTP status code appears in an access log.
log="${1:-/var/log/nginx/access.log}"

awk '{ print $9 }' "$log" \
  | grep -E '^[0-9]{3}$' \
  | sort \
  | uniq -c \
  | sort -rn

# the ten IP addresses with the most requests
awk '{ print $1 }' "$log" | sort | uniq -c | sort -rn | head
===
from functools import lru_cache

@lru_cache(maxsize=None)
def ways_to_climb(steps):
    """Number of ways to climb `steps` stairs taking 1 or 2 at a time."""
    if steps <= 1:
        return 1
    return ways_to_climb(steps - 1) + ways_to_climb(steps - 2)

for n in (1, 2, 3, 10, 40):
    print(n, ways_to_climb(n))

# without the cache, n=40 would take noticeably long
===
#include <stdio.h>

/* Binary search in a sorted array; returns index or -1. */
int find(const int *a, int n, int target)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;   /* avoids overflow */
        if (a[mid] == target)
            return mid;
        if (a[mid] < target)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int main(void)
{
    int years[] = {1969, 1989, 1991, 2001, 2008, 2020};
    printf("%d\n", find(years, 6, 2001));
    return 0;
}
===
<nav class="site-nav">
  <!-- main navigation; the current page gets aria-current -->
  <a href="/" aria-current="page">Home</a>
  <a href="/menu">Menu</a>
  <a href="/events">Events</a>
  <a href="/contact">Contact</a>
</nav>

<style>
  .site-nav { display: flex; gap: 1rem; padding: 0.5rem 1rem; }
  .site-nav a { text-decoration: none; color: #234; }
  .site-nav a[aria-current] { font-weight: bold; border-bottom: 2px solid; }
</style>
===
import time
from contextlib import contextmanager

@contextmanager
def timer(label):
    """Print how long the body of a with-block took."""
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        print(f"{label}: {elapsed * 1000:.1f} ms")

with timer("sum of squares"):
    total = sum(i * i for i in range(1_000_000))
===
// Read query-string parameters from the current URL
const params = new URLSearchParams(window.location.search);

const page = Number(params.get("page") ?? 1);
const sort = params.get("sort") || "newest";
const tags = params.getAll("tag");   // ?tag=a&tag=b -> ["a", "b"]

console.log({ page, sort, tags });

// update the URL without reloading the page
params.set("page", page + 1);
history.pushState(null, "", `?${params}`);
===
-- Running total of daily sales using a window function
SELECT sale_date,
       amount,
       SUM(amount) OVER (ORDER BY sale_date
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
         AS running_total
FROM daily_sales
WHERE sale_date BETWEEN '2024-03-01' AND '2024-03-31'
ORDER BY sale_date;
===
def caesar(text, shift):
    """Shift each letter by `shift` places, keeping case and punctuation."""
    out = []
    for ch in text:
        if ch.isalpha():
            base = ord("A") if ch.isupper() else ord("a")
            out.append(chr((ord(ch) - base + shift) % 26 + base))
        else:
            out.append(ch)
    return "".join(out)

secret = caesar("Meet me at the old mill.", 3)
print(secret)              # Phhw ph dw wkh rog ploo.
print(caesar(secret, -3))  # back to the original
===
# Git: undo the last commit but keep the changes staged
git reset --soft HEAD~1

# Show a compact history with branches drawn as a graph
git log --oneline --graph --decorate --all -n 20

# Create a branch from the current state and switch to it
git switch -c fix/typo-in-readme

# Discard local changes to a single file
git restore path/to/file.txt
===
#include <stdio.h>
#include <ctype.h>

/* Capitalize the first letter of every word read from stdin. */
int main(void)
{
    int c, at_start = 1;

    while ((c = getchar()) != EOF) {
        if (isspace(c)) {
            at_start = 1;
            putchar(c);
        } else {
            putchar(at_start ? toupper(c) : c);
            at_start = 0;
        }
    }
    return 0;
}
===
from collections import Counter

def anagram_groups(words):
    """Group words that are anagrams of each other."""
    groups = {}
    for w in words:
        key = "".join(sorted(w.lower()))
        groups.setdefault(key, []).append(w)
    return [g for g in groups.values() if len(g) > 1]

words = ["listen", "silent", "enlist", "google", "stone", "notes", "onset", "apple"]
print(anagram_groups(words))

# letter frequencies of the longest word
print(Counter(max(words, key=len)).most_common(3))
===
// A tiny event emitter
class Emitter {
  constructor() {
    this.handlers = new Map();
  }
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, []);
    this.handlers.get(event).push(fn);
    return () => this.off(event, fn);   // returns an unsubscribe function
  }
  off(event, fn) {
    const list = this.handlers.get(event) || [];
    this.handlers.set(event, list.filter((h) => h !== fn));
  }
  emit(event, ...args) {
    (this.handlers.get(event) || []).forEach((fn) => fn(...args));
  }
}
===
-- Delete duplicate contacts, keeping the row with the lowest id per email
DELETE FROM contacts
WHERE id NOT IN (
    SELECT MIN(id)
    FROM contacts
    GROUP BY lower(email)
);

-- then prevent new duplicates
CREATE UNIQUE INDEX IF NOT EXISTS idx_contacts_email
    ON contacts (lower(email));
===
import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")

def extract_emails(text):
    """Return unique email addresses in order of first appearance."""
    seen = []
    for match in EMAIL.findall(text):
        address = match.lower().rstrip(".")
        if address not in seen:
            seen.append(address)
    return seen

sample = "Write to Ana@Example.org or support@example.org. Cc: ana@example.org."
print(extract_emails(sample))
===
#!/usr/bin/env bash
# Convert all WAV files in a folder to MP3 using ffmpeg, in parallel.
set -e
dir="${1:-.}"

find "$dir" -maxdepth 1 -name '*.wav' -print0 \
  | xargs -0 -n 1 -P 4 -I {} sh -c '
      out="${1%.wav}.mp3"
      ffmpeg -loglevel error -y -i "$1" -b:a 192k "$out" && echo "done: $out"
    ' _ {}
===
def chunks(seq, size):
    """Split a sequence into lists of at most `size` items."""
    if size < 1:
        raise ValueError("size must be positive")
    return [seq[i:i + size] for i in range(0, len(seq), size)]

def flatten(nested):
    """Flatten one level of nesting."""
    return [item for group in nested for item in group]

batches = chunks(list(range(10)), 4)
print(batches)            # [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
print(flatten(batches))   # back to 0..9
===
<article class="recipe">
  <h2>Spiced Lentil Soup</h2>
  <p class="meta">Serves 4 &middot; 40 minutes</p>
  <h3>Ingredients</h3>
  <ul>
    <li>1 cup red lentils, rinsed</li>
    <li>1 onion, diced</li>
    <li>2 tsp ground cumin</li>
  </ul>
  <h3>Method</h3>
  <ol>
    <li>Soften the onion in oil.</li>
    <li>Add lentils, spices and 1 litre of stock; simmer 25 minutes.</li>
  </ol>
</article>
===
#include <stdio.h>

/* Swap two integers through pointers and show the effect. */
void swap(int *a, int *b)
{
    int tmp = *a;
    *a = *b;
    *b = tmp;
}

int main(void)
{
    int x = 3, y = 8;
    printf("before: x=%d y=%d\n", x, y);
    swap(&x, &y);
    printf("after:  x=%d y=%d\n", x, y);
    return 0;
}
===
// Save and restore form drafts with localStorage
const textarea = document.querySelector("#message");
const KEY = "draft:message";

textarea.value = localStorage.getItem(KEY) ?? "";

textarea.addEventListener("input", () => {
  localStorage.setItem(KEY, textarea.value);
});

document.querySelector("form").addEventListener("submit", () => {
  localStorage.removeItem(KEY);   // draft no longer needed
});
===
import sqlite3

# Create an in-memory database, insert rows, and query them
con = sqlite3.connect(":memory:")
con.execute("CREATE TABLE birds (name TEXT, seen INTEGER)")
con.executemany(
    "INSERT INTO birds VALUES (?, ?)",
    [("robin", 4), ("heron", 1), ("blackbird", 7), ("wren", 2)],
)

for name, seen in con.execute("SELECT name, seen FROM birds ORDER BY seen DESC"):
    print(f"{name:10} {'*' * seen}")
con.close()
===
-- Users who signed up but never placed an order
SELECT u.id, u.email, u.created_at
FROM users u
LEFT JOIN orders o ON o.user_id = u.id
WHERE o.id IS NULL
  AND u.created_at < date('now', '-30 days')
ORDER BY u.created_at;
===
def rle_encode(text):
    """Run-length encode: 'aaabcc' -> 'a3b1c2'."""
    if not text:
        return ""
    out, prev, count = [], text[0], 1
    for ch in text[1:]:
        if ch == prev:
            count += 1
        else:
            out.append(f"{prev}{count}")
            prev, count = ch, 1
    out.append(f"{prev}{count}")
    return "".join(out)

print(rle_encode("wwwwbbbwwgg"))   # w4b3w2g2
===
#!/usr/bin/env bash
# Print a friendly greeting depending on the time of day.
hour=$(date +%H)

if   [ "$hour" -lt 12 ]; then greeting="Good morning"
elif [ "$hour" -lt 18 ]; then greeting="Good afternoon"
else                          greeting="Good evening"
fi

echo "$greeting, $USER."
echo "Today is $(date +'%A, %d %B %Y')."
# show today's calendar entries if the file exists
[ -f ~/calendar.txt ] && grep "$(date +%Y-%m-%d)" ~/calendar.txt
===
// Retry an async function with exponential backoff
async function retry(fn, attempts = 5, delay = 200) {
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i === attempts - 1) throw err;   // out of attempts
      const wait = delay * 2 ** i;
      console.warn(`attempt ${i + 1} failed, retrying in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
===
#include <stdio.h>

#define ROWS 3
#define COLS 4

/* Print a small matrix and the sum of each row. */
int main(void)
{
    int m[ROWS][COLS] = {
        {1, 2, 3, 4},
        {5, 6, 7, 8},
        {9, 10, 11, 12},
    };

    for (int r = 0; r < ROWS; r++) {
        int sum = 0;
        for (int c = 0; c < COLS; c++) {
            printf("%4d", m[r][c]);
            sum += m[r][c];
        }
        printf("  | %d\n", sum);
    }
    return 0;
}
===
from datetime import date

def age_on(birthday: date, today: date | None = None) -> int:
    """Age in whole years, handling birthdays later in the year."""
    today = today or date.today()
    years = today.year - birthday.year
    if (today.month, today.day) < (birthday.month, birthday.day):
        years -= 1          # birthday hasn't happened yet this year
    return years

print(age_on(date(1990, 7, 15), date(2024, 7, 14)))  # 33
print(age_on(date(1990, 7, 15), date(2024, 7, 15)))  # 34
===
<!-- Responsive image gallery using CSS grid -->
<div class="gallery">
  <img src="harbor.jpg" alt="Fishing boats in the harbor at dawn">
  <img src="market.jpg" alt="Crowded fruit market with striped awnings">
  <img src="cliffs.jpg" alt="White cliffs above a grey sea">
  <img src="lighthouse.jpg" alt="Red and white lighthouse at dusk">
</div>

<style>
  .gallery {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
    gap: 8px;
  }
  .gallery img { width: 100%; height: auto; border-radius: 4px; }
</style>
===
-- Rank products by revenue within each category
SELECT category,
       product_name,
       revenue,
       RANK() OVER (PARTITION BY category ORDER BY revenue DESC) AS rank_in_category
FROM (
    SELECT p.category, p.name AS product_name, SUM(oi.qty * oi.price) AS revenue
    FROM order_items oi
    JOIN products p ON p.id = oi.product_id
    GROUP BY p.category, p.name
) AS t
ORDER BY category, rank_in_category;
===
import argparse

def main():
    parser = argparse.ArgumentParser(description="Convert temperatures.")
    parser.add_argument("value", type=float, help="temperature to convert")
    parser.add_argument("--to", choices=["c", "f"], default="c",
                        help="target scale (default: Celsius)")
    args = parser.parse_args()

    if args.to == "c":
        print(f"{(args.value - 32) * 5 / 9:.1f} °C")
    else:
        print(f"{args.value * 9 / 5 + 32:.1f} °F")

if __name__ == "__main__":
    main()
===
// Copy text to the clipboard and show a short confirmation
async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    const original = button.textContent;
    button.textContent = "Copied!";
    setTimeout(() => (button.textContent = original), 1500);
  } catch {
    // clipboard API can fail on insecure pages; fall back to a prompt
    window.prompt("Copy this text:", text);
  }
}
===
#!/usr/bin/env bash
# Create a Python virtual environment and install requirements if present.
set -euo pipefail

python3 -m venv .venv
. .venv/bin/activate
python -m pip install --upgrade pip

if [ -f requirements.txt ]; then
    pip install -r requirements.txt
else
    echo "no requirements.txt found; skipping install"
fi

python --version
===
#include <stdio.h>
#include <string.h>

/* Check whether a word is a palindrome, ignoring case. */
#include <ctype.h>

int is_palindrome(const char *s)
{
    size_t i = 0, j = strlen(s);
    while (i + 1 < j) {
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)s[j - 1]))
            return 0;
        i++;
        j--;
    }
    return 1;
}

int main(void)
{
    printf("%d %d\n", is_palindrome("Level"), is_palindrome("river"));
    return 0;
}
===
def merge_sorted(a, b):
    """Merge two sorted lists into one sorted list in linear time."""
    i = j = 0
    merged = []
    while i < len(a) and j < len(b):
        if a[i] <= b[j]:
            merged.append(a[i])
            i += 1
        else:
            merged.append(b[j])
            j += 1
    # one of the lists is exhausted; append the rest of the other
    merged.extend(a[i:])
    merged.extend(b[j:])
    return merged

print(merge_sorted([1, 4, 9], [2, 3, 10, 11]))
===
// Convert an object to a query string, skipping empty values
function toQuery(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
}

console.log(toQuery({ q: "rainy day soup", page: 2, filter: "" }));
// q=rainy%20day%20soup&page=2
===
-- Temperature readings: daily min, max and average per station
SELECT station_id,
       date(recorded_at)           AS day,
       MIN(celsius)                AS low,
       MAX(celsius)                AS high,
       ROUND(AVG(celsius), 1)      AS mean
FROM readings
WHERE recorded_at >= '2024-06-01'
GROUP BY station_id, day
ORDER BY station_id, day;
===
import urllib.request
import json

def get_json(url, timeout=10):
    """Download a URL and decode it as JSON (standard library only)."""
    req = urllib.request.Request(url, headers={"User-Agent": "example-script/1.0"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        charset = resp.headers.get_content_charset() or "utf-8"
        return json.loads(resp.read().decode(charset))

# data = get_json("https://api.example.com/weather?city=Lisbon")
# print(data["forecast"][0])
===
<!-- Accessible collapsible FAQ using details/summary -->
<section class="faq">
  <h2>Frequently asked questions</h2>
  <details>
    <summary>Do you deliver on weekends?</summary>
    <p>Yes, on Saturdays between 9am and 1pm.</p>
  </details>
  <details>
    <summary>Can I change my order?</summary>
    <p>Until 6pm the day before delivery, from your account page.</p>
  </details>
</section>
===
#include <stdio.h>

/* Compute the greatest common divisor with Euclid's algorithm. */
unsigned gcd(unsigned a, unsigned b)
{
    while (b != 0) {
        unsigned r = a % b;
        a = b;
        b = r;
    }
    return a;
}

int main(void)
{
    printf("gcd(84, 36) = %u\n", gcd(84, 36));    /* 12 */
    printf("lcm(4, 6)   = %u\n", 4 / gcd(4, 6) * 6); /* 12 */
    return 0;
}
===
import logging

logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
)
log = logging.getLogger("orders")

def process(order_id, amount):
    log.info("processing order %s for %.2f", order_id, amount)
    if amount <= 0:
        log.warning("order %s has non-positive amount; skipping", order_id)
        return False
    return True

process("A-1042", 19.99)
process("A-1043", 0)
===
# Docker: build an image, run it, and look at its logs
docker build -t notes-app:latest .
docker run -d --name notes -p 8000:8000 \
    -e DATABASE_URL=sqlite:///data/notes.db \
    -v "$PWD/data:/app/data" \
    notes-app:latest

docker logs -f notes          # follow output; Ctrl-C to stop following
docker stop notes && docker rm notes
===
// Simple countdown timer that updates the page every second
function startCountdown(seconds, el) {
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    el.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    if (left === 0) {
      clearInterval(id);
      el.textContent = "Time's up!";
    }
  };
  const id = setInterval(tick, 1000);
  tick();
}

startCountdown(90, document.querySelector("#timer"));
===
def histogram(values, width=40):
    """Print a text histogram of a dict of label -> count."""
    if not values:
        return
    biggest = max(values.values())
    for label, count in values.items():
        bar = "#" * round(count / biggest * width)
        print(f"{label:>8} | {bar} {count}")

rainfall = {"Jan": 78, "Feb": 55, "Mar": 61, "Apr": 42, "May": 30, "Jun": 12}
histogram(rainfall)
'''

NEWS_TEXTS = r'''
RIVERTON — A 200-year-old oak that fell during Tuesday's storm will be turned into benches for the town library, officials announced Thursday. The tree, a local landmark on Mill Street, came down shortly after 3 a.m., damaging two parked cars but injuring no one. "People have been asking us not to let it go to waste," said library director Helen Marsh. A local carpentry school has offered to build the benches free of charge. They are expected to be installed next spring.
===
City council votes to extend bike lanes along harbor road

The city council voted 7–2 on Monday evening to extend the protected bike lane along Harbor Road by another 3.4 kilometers, connecting the ferry terminal to the university campus. Supporters said the change would make cycling safer for students and commuters. Opponents raised concerns about the loss of 140 parking spaces. Construction is scheduled to begin in April and last about five months.
===
A family in the village of Kestwick has found a hoard of more than 300 silver coins while digging a pond in their back garden. Archaeologists from the county museum said the coins appear to date from the early 1600s and may have been buried for safekeeping during a period of unrest. "We thought it was a bottle cap at first," said Joanne Pell, 42. Under local law, the find must be reported to the coroner, who will decide whether it counts as treasure.
===
LOCAL BAKERY WINS NATIONAL BREAD AWARD
A two-person bakery in Alderford has won first prize in the national rye bread competition, beating more than 400 entries. Owners Tomasz and Elin Novak opened the shop four years ago in a former bicycle repair store. Their winning loaf uses a starter Tomasz says was "inherited from my grandmother, who carried it across two borders." The couple plans to use the prize money to buy a second oven. Queues formed outside the shop before dawn on Saturday.
===
Researchers at the Northfield Institute say they have recorded a previously unknown bird call in the mountain forests north of the city, possibly belonging to a species not seen in the region for fifty years. The recording was captured by automated microphones placed in the forest last summer. "It's a short, rising whistle repeated three times," said ecologist Dr. Amaka Eze. "We are cautiously optimistic." A team will return in May to attempt a sighting.
===
The regional rail operator has apologized after a morning train departed Westvale station four minutes early, leaving dozens of commuters on the platform. A spokesperson said the early departure was caused by "a clock synchronization error on the train's onboard system" and that the issue had been fixed. Several passengers posted photos of the empty platform online. The company said affected travelers could claim a refund for the day's ticket.
===
Volunteers clear record amount of litter from Silver Lake
More than 600 volunteers collected 4.2 tonnes of litter from the shores of Silver Lake during Saturday's annual cleanup, the largest amount since the event began in 2009. Items found included 1,800 plastic bottles, three bicycles, a shopping cart and a porcelain sink. Organizer Ravi Menon said the numbers were "both encouraging and depressing." The town has promised to install six new bins along the lakeside path.
===
Schools in the Brennan district will start thirty minutes later from next September, after a two-year study found that students were arriving tired and struggling in early classes. The school board approved the change unanimously on Wednesday. Bus routes will be redrawn over the summer. Some parents have raised concerns about childcare in the mornings, and the district said it will offer a supervised breakfast club from 7:30 a.m.
===
A lost dog has been reunited with its owners after traveling nearly 60 kilometers over eleven days. Biscuit, a three-year-old terrier mix, disappeared during a camping trip near Pine Ridge. She was found on Sunday sitting outside a gas station on the edge of her home town, thin but unharmed. "She was just waiting by the door like she'd been there all along," said owner Marcus Reid. The family has since bought her a GPS collar.
===
HEAT WARNING ISSUED FOR WEEKEND
Forecasters have issued a heat warning for the coastal region from Friday to Sunday, with temperatures expected to reach 38°C inland. Authorities urged residents to drink water regularly, avoid outdoor exercise in the afternoon and check on elderly neighbors. Cooling centers will open at the community hall and both public libraries. Beaches are expected to be crowded; lifeguards will be on duty until 8 p.m.
===
A retired postman has completed his goal of visiting every public library in the country, 1,142 in total, a journey that took him nine years. Frank Osei, 71, began the project after his wife suggested he "find a hobby that gets you out of the house." He stamped a notebook at each library and now plans to donate it to the national archive. His favorite? "A tiny one on an island with one shelf and a cat," he said.
===
The town of Millbrook has voted to turn its disused railway line into a 12-kilometer walking and cycling path. The line closed in 1974 and has since become overgrown with brambles. The project will cost an estimated 2.1 million, most of it covered by a regional grant. Local historian Brigid Connolly welcomed the decision, noting that several of the original stone bridges will be restored. The first section could open within two years.
===
Technology company Lumera said Tuesday that a software update had accidentally reset thousands of smart thermostats to their factory settings overnight, leaving some customers waking up to cold homes. The company released a fix within hours and said no personal data had been affected. "We understand how frustrating this was, especially during a cold snap," a statement said. Customers will receive a three-month credit on their subscription.
===
Scientists monitoring the Vantra glacier say it retreated 41 meters over the past year, the largest annual loss since measurements began in the 1950s. The team attributes the loss to an unusually warm summer and little winter snowfall. The glacier feeds a river used for drinking water by several towns downstream. "This isn't an emergency for next year," said glaciologist Ingrid Solberg, "but the long-term trend is very clear."
===
Farmers' market moves indoors for winter
The Saturday farmers' market will move into the old textile mill on Canal Street from November to March, organizers confirmed. The space was renovated last year and can hold up to forty stalls. Regular vendors include three vegetable growers, a cheesemaker, two bakers and a beekeeper. A café run by students of the local catering college will serve soup and hot drinks. Opening hours remain 8 a.m. to 1 p.m.
===
A rare total solar eclipse will be visible across the southern part of the region on the afternoon of August 12, astronomers have confirmed. Totality will last just under two minutes in the town of Caraway, which is expecting thousands of visitors. Hotels there report they are already fully booked. Experts remind viewers that looking at the sun without certified eclipse glasses can cause permanent eye damage, except during the brief moment of totality itself.
===
Hospital introduces therapy dogs on children's ward
St. Agnes Hospital has begun a pilot program bringing trained therapy dogs to its children's ward twice a week. The dogs, all volunteers' pets that have passed a temperament assessment, visit for one hour and stay only with patients who want to see them. Nurse manager Laila Haddad said early feedback had been "overwhelmingly positive," with parents reporting calmer evenings after visits. The program will be reviewed after six months.
===
The annual pumpkin festival in Hollow Creek crowned a new champion on Sunday: a 612-kilogram pumpkin grown by 16-year-old Ezra Quinn. It is the first time in the competition's 38-year history that a teenager has won. Quinn said he fed the pumpkin a mix of compost tea and "a lot of patience," and checked on it four times a day. The pumpkin will be carved into a boat for the festival's traditional regatta next weekend.
===
The city's main library will stay open until 10 p.m. on weekdays during exam season, after a petition signed by more than 3,000 students. The extended hours begin on May 2 and run for six weeks. Library staff said extra security and cleaning will be funded from the council's youth budget. "Not every student has a quiet place to study at home," said council member Ana Villanueva, who backed the proposal.
===
A small earthquake of magnitude 3.8 shook the Caldera Valley early on Thursday morning, waking residents but causing no reported injuries. The quake struck at 4:12 a.m. at a depth of about 10 kilometers. Several people reported items falling from shelves, and one old chimney partly collapsed. Seismologists said earthquakes of this size occur in the region every few years and that there was no indication of a larger event to come.
===
PORT AUTHORITY APPROVES SHORE POWER FOR CRUISE SHIPS
Cruise ships docking at the city's north terminal will be able to plug into the electricity grid instead of running their diesel engines, under a plan approved Friday. The system, due to be completed in 2027, is expected to cut local air pollution during the busy summer season. Residents near the port have long complained of fumes. Shipping companies will pay a fee for the power they use.
===
An elementary school in Fairhaven has raised more than 12,000 for a new playground by selling a cookbook of recipes written by its students. The book, titled "What We Eat at Grandma's," includes 84 recipes from 23 countries, each illustrated by the child who submitted it. The first printing of 500 copies sold out in three days. A second printing is under way, and the school says any extra money will go toward a library reading corner.
===
Weather: Sunny spells this morning will give way to cloud from the west by early afternoon, with showers arriving in the evening. Some of the showers could be heavy and accompanied by hail in exposed areas. Highs of 14°C, falling to 6°C overnight. Winds will strengthen near the coast, gusting up to 60 km/h by midnight. Tomorrow looks drier and brighter, although it will feel chilly in the breeze.
===
A cat that went missing from a cargo ship in port three weeks ago has been found alive inside a shipping container more than 900 kilometers away. Workers at the Delmar freight depot heard meowing while unloading crates of furniture. The cat, named Anchor by the ship's crew, was dehydrated but otherwise healthy. Veterinarians believe she survived by licking condensation inside the container. The shipping company has arranged to fly her back.
===
Residents of Elm Hill have voted to keep their neighborhood's last phone box and turn it into a tiny lending library. The red booth had not had a working phone since 2015. Volunteers have fitted shelves and a small solar light, and neighbors have donated over 200 books. A note taped inside asks borrowers to "take one, leave one, and close the door so the rain stays out." The booth is open day and night.
===
Officials have closed two beaches in Sandpoint after a large group of jellyfish washed ashore on Monday. The species, known locally as the blue sail, is not dangerous to humans, but its stinging tentacles can cause irritation. Marine biologists say warm currents bring the jellyfish close to shore every few years. Beaches are expected to reopen within days. Visitors are asked not to touch stranded jellyfish, even when they appear dead.
===
A new pedestrian bridge over the Arlen River opened on Saturday, ending a two-year closure of the old crossing. Hundreds of people walked across within the first hour, many stopping to take photos of the views downstream. The bridge includes a viewing platform and lighting designed to avoid disturbing bats that roost under the nearby railway arches. Construction came in three months late but slightly under budget, the city said.
===
BOOK RETURNED 63 YEARS LATE
A copy of "A Field Guide to Mushrooms" has been returned to Oakley Public Library 63 years after it was due. The book arrived by post with a handwritten note from its borrower, now 81, apologizing and saying she had "taken it on a camping trip and simply never got around to it." At the rate charged in 1961, the fine would have been about 4,600. The library has waived it and put the book on display.
===
The regional government announced Wednesday that all public buses will be free for residents under 18, starting at the beginning of the school year. The scheme is expected to cost around 9 million a year. Officials hope it will reduce car trips to schools and help families with rising living costs. Student passes will be linked to the existing library card, so no new application is needed.
===
A team of divers has discovered the wreck of a 19th-century paddle steamer in the deep waters of Lake Orrin. The ship, the Margaret Ellis, sank in a storm in 1871 while carrying passengers and timber. Underwater images show the wooden hull remarkably well preserved, with one paddle wheel still upright. The divers have shared the location with heritage authorities and say the site will be protected from souvenir hunters.
===
Councillors in Brightwater have approved plans for the town's first community solar farm, to be built on a former landfill site east of the bypass. The 4-megawatt project will be funded partly through a share offer open to residents, who will receive a return from electricity sales. Backers say it will supply the equivalent of about 1,200 homes. Construction could begin as early as next summer if the grid connection is approved.
===
Sports: The Hartwell Herons came from two goals down to beat the Dunmore Foxes 3–2 on Saturday, securing their place in the regional cup final for the first time in 22 years. Striker Jude Mensah scored twice in the last fifteen minutes, including a header in stoppage time. "I've never heard the stadium that loud," said captain Lena Brandt. The final will be played in May at the national stadium.
===
A primary school teacher from Sorrento Road has been named National Teacher of the Year for her work running a weekly science club in which children build and launch small weather balloons. Mariam Qureshi, 38, started the club with a budget of zero and a borrowed helium tank. One balloon reached an altitude of 31 kilometers and sent back photos of the curve of the Earth. "The kids still talk about it every day," she said.
===
Water supply restored after main bursts under high street
Water has been restored to about 3,000 homes in central Ashby after a major pipe burst beneath the high street on Monday night. The burst flooded several shops and left a hole two meters wide in the road. Engineers worked through the night to repair the 80-year-old cast iron main. The road is expected to remain closed for at least a week while it is resurfaced, and buses are being diverted.
===
A 92-year-old woman has graduated with a degree in history, becoming the oldest graduate in the history of Lindell University. Dorothy Aklilu enrolled at 86 after her grandson dared her to "do something about" her lifelong interest in medieval monasteries. She wrote her final thesis on the bookkeeping of a 13th-century abbey. At the ceremony, she received a standing ovation. Asked about her plans, she said: "A master's, obviously."
===
Health officials have reported a rise in cases of seasonal flu across the northern district, with hospital admissions up 30 percent compared with last month. Doctors are urging people over 65, pregnant women and those with chronic illnesses to get vaccinated as soon as possible. Pharmacies are offering walk-in appointments. Officials also reminded the public that staying home when sick and washing hands frequently help slow the spread.
===
A dispute over a hedge between two neighbors in the village of Lower Fenwick has been resolved after eleven years, when both parties agreed to plant a new shared hedge of native species along the boundary. The original leylandii, which had grown to nine meters, will be removed next month. "We're just glad to see the sun again," said one of the neighbors. The other added that they had already been invited round for tea.
===
The national museum will lend its famous Gilded Astrolabe to a museum on the other side of the world for the first time, as part of a cultural exchange. The 14th-century instrument, used to measure the positions of stars, will travel in a custom-built, climate-controlled case. In return, the partner museum will lend a collection of early navigation charts. The exhibition opens next spring and runs for four months.
===
Police are asking for the public's help in identifying a person who has been leaving hand-knitted hats on the statues in Victoria Park. Officers stressed that no crime has been committed and that they are "simply curious." The hats have appeared on all eleven statues over the past month, each in a different color and fitted perfectly. A park spokesperson said they would be left in place "until the weather warms up."
===
Shoppers in Kingsport have embraced a new "repair café" that opened last month in a former bank. On the first Saturday of every month, volunteers with skills in electronics, sewing, carpentry and bicycle repair help people fix broken items for free. Organizers say they repaired 87 items at the most recent session, from toasters to a grandfather clock. "Everything we fix is one less thing in the landfill," said volunteer Georg Haas.
===
A long-lost manuscript by 19th-century composer Elise Varga has been found in the attic of a house in Tarnow, researchers confirmed this week. The 40-page score, a string quartet believed to have been written in 1847, was discovered by the homeowner while clearing out boxes. Musicologists said the handwriting and paper matched other works by Varga. The quartet will receive its first public performance in October.
===
The state's largest reservoir is back above 80 percent capacity after weeks of heavy rain, water authorities said, easing concerns after last year's drought. Restrictions on garden watering and car washing will be lifted from Monday. However, officials urged residents to continue saving water, noting that long-term supply still depends on how much snow falls in the mountains this winter.
===
A startup founded by two former nurses has raised 4 million to develop a bedside device that reminds hospital patients to drink water and tracks how much they consume. Dehydration is a common problem among elderly patients. The device, a weighted cup holder with a soft chime, is being tested on three wards. "We kept seeing full water jugs at the end of the day," said co-founder Beatriz Costa.
===
Firefighters rescued a horse that had fallen into a drainage ditch near Brackenhurst on Tuesday afternoon. The twelve-year-old mare, named Clover, had wandered from her field after a gate was left open. Crews used straps and a tractor to lift her out in an operation that lasted more than two hours. A vet examined her at the scene and found only minor scratches. Her owner thanked the crews with a tray of homemade flapjacks.
===
OPINION POLL: MAJORITY SUPPORT FOUR-DAY WEEK TRIAL
A new survey of 2,400 adults found that 61 percent would support a government-backed trial of a four-day working week with no loss of pay. Support was highest among workers under 35. Business groups warned that the model may not suit all industries, particularly healthcare and retail. The government has said it will review the results of similar trials abroad before making any decision.
===
Archaeologists excavating ahead of a housing development in Wexley have uncovered the remains of a Roman bathhouse, including a mosaic floor depicting dolphins and a sea god. The developer has agreed to pause work on that part of the site for six months. "It's one of the best-preserved mosaics found in the region in decades," said excavation lead Dr. Kwame Asante. The public will be able to visit on two open days in June.
===
A mobile library bus that visits remote villages has been given a new lease of life after a crowdfunding campaign raised enough to replace its failing engine. The bus, known affectionately as Bertha, serves 27 villages in the hill country, some of them more than an hour from the nearest town. Librarian Owen Pryce, who has driven it for 18 years, said the response had "restored my faith in people and in diesel mechanics."
===
The town's historic clock tower has been silent for the first time in 130 years after its mechanism seized during a cold night. Engineers say ice formed inside the gears after rainwater seeped in through a cracked window in the tower. The council plans to repair the window and service the clock, which will take around three weeks. Several residents said they had not realized how much they relied on the hourly chimes until they stopped.
===
More than 1,500 runners took part in Sunday's Lakeside Half Marathon, raising money for the regional children's hospital. The men's race was won by Isaac Kiprono in 1:05:42 and the women's race by Freya Lindahl in 1:13:09, a course record. Organizers reported that the oldest finisher was 84 and the youngest 16. The event raised an estimated 190,000. Some roads in the town center remained closed until mid-afternoon.
===
A rare white deer has been spotted several times in the forests around Thornby, delighting local photographers. Wildlife experts say the animal is likely leucistic, meaning it has reduced pigmentation, rather than a true albino, as its eyes appear dark. Forestry officials have asked the public not to approach or feed the deer and to keep dogs on leads in the area. Several schools have started drawing competitions in its honor.
===
Transport officials have unveiled the design of the new metro line that will link the airport to the city center in 22 minutes. The line will have nine stations, four of them underground, and trains will run every five minutes at peak times. Tunneling is scheduled to start next year. Residents along the route will be offered noise insulation during construction. The line is expected to carry 80,000 passengers a day.
===
A museum has returned a carved wooden mask to the community it was taken from more than a century ago. The mask, used in harvest ceremonies, had been in the museum's storerooms since 1912 and was never displayed. A delegation of elders attended a private handover on Thursday. "It is coming home to be used, not just looked at," said one of the elders. The museum said it is reviewing the origins of other items in its collection.
===
An unusual cold snap brought snow to the lowlands on the first day of May, surprising gardeners who had already planted tomatoes and beans. Up to six centimeters fell in some areas overnight. Meteorologists said late snow is rare but not unprecedented. Garden centers reported a run on fleece covers. Temperatures are expected to rise sharply by the weekend, and most of the snow had melted by Wednesday afternoon.
===
A woman who has sold newspapers from the same kiosk outside Central Station for 50 years was honored by the city on her final day of work. Rosa Delgado, 79, opened the kiosk in 1975 and says she has served "at least three generations of commuters." Regular customers brought flowers, cards and a cake shaped like a newspaper. The kiosk will be taken over by her nephew, who promised to keep her tradition of a free paper on people's birthdays.
===
Two orphaned otter cubs found in a drainage pipe in February have been released back into the wild after months of care at the Marsh End wildlife sanctuary. The cubs, who weighed less than 500 grams when rescued, were taught to catch fish in a specially built pool. Staff fitted small tracking tags to monitor them for the first few weeks. "Releasing them is the whole point," said sanctuary manager Chloé Durand. "It never stops being emotional."
===
The university has unveiled a new robotic telescope on the roof of its physics building that students and members of the public can book online. Users can request images of planets, star clusters or nebulae, and the telescope will capture them automatically on the next clear night. Since a trial began in January, more than 600 requests have been processed, the most popular target being the Orion Nebula.
===
A fishing trawler with five crew members aboard was towed safely into harbor on Friday after losing engine power in rough seas 40 kilometers offshore. The coastguard responded to a distress call shortly after dawn. A lifeboat reached the vessel within two hours and attached a tow line in waves of up to four meters. All crew were reported safe and well. The cause of the engine failure is under investigation.
===
The village of Ashcombe has won the title of "Best Kept Small Village" for the third year in a row. Judges praised its hanging baskets, its restored duck pond and a volunteer-run shop in the old schoolhouse. The village has about 400 residents. "We'd like to say it's effortless," laughed parish council chair Yusuf Karimi, "but there's a rota, and you do not want to be late for your weeding shift."
===
A new study of 18,000 adults found that people who regularly spent at least two hours a week in nature reported better health and wellbeing than those who did not. The benefit did not seem to depend on whether the time was taken in one long visit or several short ones. Researchers cautioned that the study shows an association rather than proof of cause. Still, they said, the results support investment in parks and green spaces.
===
A ferry service between the mainland and Holm Island has been suspended for the second day because of strong winds, leaving islanders without fresh deliveries. The island's only shop said it had run out of milk and bread by Tuesday afternoon. Forecasters expect the winds to ease by Thursday. The ferry operator said it would run additional sailings once conditions improved, and the council has arranged an emergency supply drop by helicopter.
===
The city zoo has welcomed the birth of a baby giraffe, the first born there in a decade. The calf, a female, stood up within an hour of birth and is already nearly two meters tall. Keepers say mother and calf are doing well. The zoo has launched a public vote to choose a name from three options suggested by staff. The giraffe house will remain closed to visitors for two weeks to allow the pair to bond.
===
An amateur astronomer in Glenhollow has discovered a supernova in a distant galaxy using a telescope in his back garden. Retired engineer Viktor Hale, 66, spotted the bright new point of light while comparing images taken on consecutive nights. Professional observatories confirmed the discovery within 24 hours. The exploding star is about 70 million light-years away. Hale said it was "the most exciting thing to happen to me since my wedding."
===
Officials have confirmed that the annual lantern festival will go ahead this year despite earlier concerns about funding. A local business association stepped in with a donation to cover the cost of safety staff and cleanup. The festival, which draws about 20,000 people to the riverside each autumn, features hundreds of handmade paper lanterns floated at dusk. Organizers are asking people to use the biodegradable lanterns provided rather than bring their own.
===
A decades-old time capsule buried outside Marston Primary School was opened on Friday, 50 years after it was sealed. Inside were drawings, a football program, a cassette tape of the school choir and letters from pupils predicting life in the future. Several predicted flying cars; one predicted that "everyone will have a computer in their pocket." Some of the original pupils, now in their sixties, attended the opening and read their own letters aloud.
===
Bus drivers in the city of Harbridge have voted to accept a new pay deal, ending a dispute that had threatened strikes over the holiday period. The agreement includes a 6 percent pay rise this year and improvements to break times on long routes. The union said the deal was "a fair result after long negotiations." Bus services will run to the normal timetable throughout December.
===
A whale was spotted swimming in the estuary near Port Carrick on Wednesday, drawing crowds to the riverbank. Marine experts identified it as a young humpback, likely separated from its group while feeding. Rescue teams monitored it from boats at a distance and asked the public to stay back. By Thursday morning, the whale had made its way back to open water on the high tide, to cheers from onlookers.
===
The old cinema on Queen Street will reopen next month after a three-year restoration funded by local donors. The 1930s building, which had been due for demolition, has had its art deco ceiling repaired and its original organ brought back into working order. The first screening will be a silent film with live organ accompaniment. Tickets for the opening night sold out within an hour.
===
Officials have warned drivers of delays on the coast road this weekend as a herd of around 200 sheep is moved between summer and winter pastures. The traditional crossing, which has taken place for centuries, will close the road for about two hours on Saturday morning. Farmers have asked spectators to keep dogs on leads and to avoid sounding horns. Hundreds of people usually gather to watch.
===
A kindergarten in Ellery has become the first in the region to hold all its lessons outdoors, whatever the weather. Children spend their days in a woodland site with a simple shelter, learning through play, building dens and observing wildlife. Staff say attendance has risen and colds have fallen since the switch. Parents were initially skeptical, but the waiting list now stretches into next year.
===
The national weather service says last month was the wettest October on record in the western provinces, with some areas receiving three times their usual rainfall. Several rivers burst their banks, and farmers report that the potato harvest has been badly delayed. Officials are assessing damage to roads and bridges. Drier weather is forecast for the first half of November.
===
Scientists have released the first detailed map of the seafloor around the Brannock Islands, revealing underwater canyons, ancient shorelines and a previously unknown reef. The survey took three years and used a research ship equipped with sonar. Researchers say the map will help fishermen, cable-laying companies and conservationists. The data has been made freely available online.
===
A student-run café that pays its staff above the minimum wage and gives its profits to local charities has celebrated its tenth anniversary. The café, based in the university's old chaplaincy building, has donated more than 180,000 since it opened. Founder Alisha Ndlovu, now a teacher, returned for the celebration. "We were told it would last a term," she said. "We were very stubborn."
===
Heavy snow closed several mountain passes overnight, leaving drivers stranded and forcing the cancellation of trains between the capital and the north. Emergency teams reached about 90 people trapped in vehicles and brought them to a school converted into a temporary shelter. Authorities say the passes will reopen once snowplows have cleared them, probably by Tuesday evening.
===
The town council has approved a plan to plant 10,000 trees along streets and in parks over the next five years. Residents can request a tree outside their home through an online form. The species chosen include oak, lime, rowan and wild cherry, selected for their resilience to heat and drought. Officials say the trees will help cool streets in summer and absorb rainwater during storms.
===
A lost wedding ring has been returned to its owner after turning up inside a potato. Farmer Gerd Olsen, 67, lost the ring while working in his fields nine years ago. While peeling potatoes for dinner last week, his daughter-in-law found it wrapped around a misshapen tuber that had grown straight through it. "I'd given up on it," Olsen said. "My wife had not."
'''

EMAIL_TEXTS = r'''
Subject: Fridge cleanup this Friday

Hi all,

A friendly reminder that the office fridge will be cleared out at 4 p.m. this Friday. Anything without a name and date on it will be thrown away, including the mysterious jar of pickles that has been on the top shelf since March.

If something is yours and you want to keep it, please label it before then.

Thanks,
Marisol
Facilities
===
Dear Mr. Haddad,

Thank you for your letter of 12 June regarding the noise from the construction site on Fenwick Lane. I'm sorry for the disturbance you have experienced. I have spoken with the site manager, who has agreed that no machinery will be started before 8 a.m. on weekdays or at any time on Sundays.

Please let me know if the problem continues.

Yours sincerely,
Clara Whitfield
Neighborhood Liaison Officer
===
Hi Jonas,

Just wanted to say thanks again for covering my shift on Saturday. My sister's wedding went perfectly, and I didn't have to check my phone once, which I know was thanks to you.

I owe you one. Any weekend you need next month is yours, just tell me which.

Also, I brought you back some of the wedding cake. It's in the staff fridge, top shelf, with your name on it.

Cheers,
Tamsin
===
Subject: Re: Project timeline

Hi Priya,

I've looked at the revised timeline. The design phase looks realistic, but I'm worried about squeezing testing into two weeks, especially with the public holiday in the middle.

Could we move the launch back by one week, or drop the reporting feature from the first release? I'd prefer the second option. We can ship it in the following update.

Happy to talk it through on a call tomorrow if that's easier.

Best,
Oliver
===
Dear Grandma,

Thank you so much for the sweater you knitted me for my birthday! It's the exact green of the hills behind your house, and it's so warm that I wore it to school three days in a row. My friend Noor asked where I bought it and I said you can't buy it, my grandma made it.

We're coming to visit in August. Mum says I can stay a whole week. Can we make plum jam again?

Love,
Elif
===
To: All residents
Subject: Water shut-off on Thursday

Please note that the water supply to the building will be turned off on Thursday between 9 a.m. and 1 p.m. so that the plumbers can replace the main valve in the basement.

We recommend filling a few bottles or a kettle beforehand. Taps may run cloudy for a few minutes after the water is turned back on; this is harmless.

Apologies for the inconvenience.

Building Management
===
Hi Sam,

I found your wallet on the bus this morning. Your library card had this email address on it, so I hope this reaches you. Everything seems to be inside, including your driving license and about 20 in cash.

I work near the central station. I could meet you there at lunchtime any day this week, or I can hand it in at the bus depot if you prefer.

Let me know what works.

Regards,
Anouk
===
Subject: Quarterly numbers — short version

Team,

Quick summary before Monday's meeting: revenue is up 8% on last quarter, mostly thanks to the new subscription plan. Churn went down slightly. Support tickets went up 20%, which is expected after a launch, but response times slipped from 4 to 9 hours.

I'd like us to spend most of Monday on the support problem. Please come with ideas, not just complaints.

Thanks,
Renata
===
Dear Professor Adeyemi,

I am a second-year student in your Introduction to Ecology course. I was ill last week and missed the field trip to the wetlands, which the syllabus says counts toward the final grade. I have attached a note from the campus clinic.

Would it be possible to complete an alternative assignment, or to join another group's trip later in the term? I'm happy to do whatever works best for you.

Thank you for your time.

Kind regards,
Mateo Ruiz
===
Hey Lou,

Are we still on for camping next weekend? The forecast says rain on Saturday morning but clear after that. I think we should leave Friday evening anyway, get the tent up before dark and just sit out the rain with cards and coffee.

I'll bring the stove and the big tarp. Can you bring the cooler and the lantern? And please don't forget the tent poles this time.

Let me know,
Dev
===
Subject: Welcome to the team!

Hi Keiko,

Welcome aboard! We're really glad you're joining us. Your first day is Monday; please come to reception at 9:30 and ask for me. We'll spend the morning getting your laptop set up and meeting the team, and then lunch is on us.

You don't need to bring anything except some ID for the building pass. The dress code is relaxed.

See you Monday,
Grant
===
Dear Sir or Madam,

I am writing to complain about the delivery of my order no. 48213. The parcel arrived four days late, and the glass vase inside was broken, apparently because it had been packed with only a single sheet of paper.

I have attached photographs of the box and the broken vase. I would like either a replacement, properly packed, or a full refund.

I look forward to your reply.

Yours faithfully,
Harriet Lowe
===
Hi Mum,

Just a quick note to say I got here safely. The flight was fine, only a little bumpy over the mountains. The apartment is small but bright, and there's a bakery downstairs that smells amazing every morning at six, which is either wonderful or dangerous.

Work starts Monday. I'm nervous but mostly excited.

Give Dad a hug for me and tell him the umbrella he made me pack was a good idea after all.

Love you,
Aiko
===
MEMO
To: Kitchen staff
From: Head chef
Re: New allergy procedure

From Monday, every order flagged with an allergy must be prepared on the purple chopping board with the purple knife, and checked by a second person before it leaves the pass. The ticket must be initialed by both.

I know this adds time. It is not optional. One mistake is one too many.

Thank you for taking this seriously.
===
Subject: Can we reschedule?

Hi Dr. Mbeki,

I'm so sorry to do this at short notice, but my daughter has come down with a fever and I'll need to stay home with her tomorrow. Would it be possible to move our 2 p.m. meeting to Thursday or Friday?

I've finished my comments on the draft and will send them tonight so you have them regardless.

Thanks for understanding,
Ruth
===
Dear neighbors,

Our cat, Pepper, has been missing since Tuesday evening. She is small, black with a white chest, and wears a red collar with a bell. She is very shy and may be hiding in a shed or garage.

Could you please check any outbuildings, and call or text me if you see her? Please don't try to catch her, she'll only run.

Thank you so much,
Ingrid, flat 4B
===
Hi Malik,

Great to meet you at the conference last week. I really enjoyed your talk on water filtration in small villages, particularly the point about maintenance being harder than installation.

We're working on something similar in two districts in the north and I think there could be a chance to collaborate. Would you have 30 minutes for a call in the next couple of weeks?

All the best,
Sigrid Halvorsen
===
Subject: Book club — next meeting

Hello readers!

Our next meeting is on Wednesday the 14th at 7 p.m., at Jo's house this time (the blue door, not the green one). We're discussing the novel about the lighthouse family. Don't worry if you haven't finished; spoilers will be handled with care.

Bring a snack to share if you can. Jo has asked that nobody bring another lemon cake, as we had four last time.

See you there,
Amara
===
Dear Ms. Fontaine,

Thank you for your application for the position of library assistant. We were impressed by your experience and your enthusiasm for community programs.

We would like to invite you to an interview on Tuesday, 9 April at 10:00 a.m. at the Central Library, third floor. The interview will last about 45 minutes and will include a short practical task.

Please confirm your attendance by replying to this email.

Kind regards,
Bernard Achterberg
Human Resources
===
Hi team,

I'll be out of office from Monday to Friday next week with very limited access to email. For anything urgent about the Delgado account, please contact Femi, who has all the files. For everything else, I'll reply when I'm back on the 22nd.

I've left the draft proposal in the shared folder. Feel free to comment directly in the document.

Thanks,
Lucía
===
Subject: Thank you for the dinner

Dear Ahmed and Sara,

Thank you for a wonderful evening on Saturday. The lamb was extraordinary, and I still can't stop thinking about the pistachio dessert. I hope Sara will share the recipe one day, although I suspect mine won't look anything like hers.

It was lovely to meet your parents, too. Please give them our best.

Next time, you must come to us. Fair warning: I can only make soup.

Warmly,
Beatrice
===
To the Parks Department,

I'm writing to suggest installing a water fountain near the playground in Linden Park. On hot days, many families with small children use the playground, and the nearest tap is at the café, which is closed on weekdays.

I'd be glad to help gather signatures if that would be useful. Thank you for considering it, and for keeping the park so well looked after.

Sincerely,
Paulo Mendes
===
Hey Chris,

Found the recipe you asked about. It's the lentil soup from that little place in the old town, as close as I could get.

One onion, two carrots, two celery sticks, all chopped small. Cook in oil until soft. Add a cup of red lentils, a teaspoon of cumin, a can of tomatoes and a liter of stock. Simmer 25 minutes. Squeeze in lemon at the end. That's the secret, honestly: more lemon than you think.

Enjoy,
Nadia
===
Subject: Server maintenance tonight

Hi everyone,

We'll be performing maintenance on the main database server tonight between 11 p.m. and 1 a.m. During that window the customer portal may be slow or unavailable for a few minutes at a time.

No action is needed from you. If you notice anything unusual after 1 a.m., please open a ticket rather than messaging people directly, so we can track it.

Thanks,
Infrastructure team
===
Dear Mr. Kowalski,

I'm writing on behalf of the Year 5 class at Hillside Primary to thank you for visiting us last Tuesday and talking about your work as a beekeeper. The children loved trying on the veil and tasting the different honeys. Several of them have since written stories about bees, and one has announced that she will be a beekeeper "and an astronaut."

We have enclosed some drawings they made for you.

With thanks,
Mrs. Ellison
===
Hi Aunt Rosa,

Mum told me you're feeling better after the operation, and I'm so glad. I wanted to send you a few photos from our trip to the coast. The one with the seagull stealing Dad's sandwich is my favorite. He was very angry about it. We were not.

I'm learning to play the guitar. When you visit at Christmas I'll play you something, but only if you promise not to laugh.

Lots of love,
Theo
===
Subject: Lost and found — umbrellas

Hello all,

We currently have eleven umbrellas in the lost and found box at reception, some of which have been there since last winter. If you've lost one, please come and collect it by the end of the month.

After that, unclaimed umbrellas will be donated to the shelter on King Street, where they will be very welcome.

Thank you,
Front desk
===
Dear Dr. Castellanos,

I hope this message finds you well. I'm writing to ask whether you would be willing to write a letter of recommendation for my application to the master's program in marine biology at Coastal University. The deadline is 15 January.

I've attached my CV, a draft of my statement of purpose and a reminder of the research project I completed in your lab last year.

I completely understand if you're too busy at this time of year.

With gratitude,
Ines Moreau
===
Hi Felix,

I'm sorry about what I said at dinner on Friday. I was tired and stressed about work, and I took it out on you, which wasn't fair. You were only trying to help.

Can we get coffee this week? I'd like to apologize properly, in person, and hear how your interview went. I didn't even ask, and I should have.

Talk soon,
Mara
===
MEMO
To: All volunteers
Re: Saturday food drive

Thank you all for signing up. Please arrive at the church hall by 8:30. We'll split into three teams: sorting, packing and delivery. Drivers, please bring your license and make sure your car has space for at least six boxes.

Wear comfortable shoes. Coffee and pastries will be provided, kindly donated by Hartley's Bakery.

See you there!
Yvonne
===
Subject: Broken link on your website

Hello,

I wanted to let you know that the "Download timetable" link on your homepage leads to an error page. I tried it in two different browsers. I think the file may have been moved when the site was updated last week.

It's not urgent for me, as I found the timetable elsewhere, but I thought you'd like to know.

Best regards,
Kwabena Asante
===
Dear Editor,

I was disappointed to read in last week's paper that the council plans to cut the opening hours of the Eastside swimming pool. For many older residents like me, the early morning swim is the only exercise we can do without pain. It is also, frankly, the only place I see my friends before noon.

I urge the council to look for savings elsewhere.

Margaret Ojo, Eastside
===
Hi Hannah,

Thanks for sending over the photos from the shoot. They look fantastic, especially the ones by the window. Could you send the high-resolution versions of numbers 4, 12 and 17? We'd like to use 12 on the cover of the brochure.

Also, would you be available for a second shoot in early June? We're opening a new shop and would love to have it photographed before the opening.

Best wishes,
Stefan
===
Subject: Parking on Elm Street

Dear residents,

Starting Monday, the east side of Elm Street will be closed to parking between 7 a.m. and 6 p.m. for three weeks while the sidewalk is repaired. Temporary parking permits for the lot behind the community center are available from the town office.

We appreciate your patience.

Town of Harlow, Public Works
===
Dear Leila,

I finished your manuscript last night, in one sitting, which I have not done with a book in years. The chapters set on the island are extraordinary. I could smell the salt.

I do have some notes, mostly about the middle section, which I think drifts a little. But the ending made me cry on a train, so I'm not sure I'm in a position to criticize anything.

Let's meet next week to talk properly.

Yours,
Victor
===
Hello Mr. Park,

Thank you for your interest in our cottage for the week of 18 August. I'm happy to confirm it's available. The nightly rate is 120, with a minimum stay of three nights. Bed linen and towels are provided, and there's a small grocery store a ten-minute walk away.

To confirm the booking, a 30% deposit is required. I'll send the bank details once you confirm.

Best regards,
Siobhan
===
Hi Coach Reyes,

Lucas won't be able to make practice on Wednesday; he has a dentist appointment at 4 that we couldn't move. He's been practicing his free throws in the driveway every evening, so hopefully he'll make up for it on Saturday.

Also, I'm happy to drive for the away game on the 12th if you still need parents. I can take four kids.

Thanks,
Marta Vidal
===
Subject: Office move — what you need to do

Hi all,

The office move is now confirmed for the weekend of 6–7 September. By Thursday 4th, please:
- pack your desk into the crates provided (label them with your name and new desk number);
- take home any plants or personal items you're attached to;
- unplug your monitor and leave cables in the labelled bag.

IT will set everything up over the weekend. Your new desk numbers are on the floor plan attached.

Thanks,
Operations
===
Dear Uncle Viktor,

Thank you for the book about birds. I've started keeping a list of every bird I see, like you said. So far I have 23, including a heron on the canal and a woodpecker in the school yard that nobody believed me about until it did it again.

Dad says we can come to the lake house in July. Will the loons be there? I want to hear the sound you told me about.

From your nephew,
Oskar
===
Subject: Feedback on your presentation

Hi Yusuf,

I really enjoyed your presentation yesterday. The opening story about the delivery driver got everyone's attention, and the chart comparing routes was very clear.

Two small suggestions for next time: slow down a little in the middle section, where the numbers came fast, and leave a minute at the end for questions. People had good ones and we ran out of time.

Overall, great work.

Best,
Chiara
===
To the management,

I stayed in room 214 of your hotel from 3 to 6 March and wanted to thank your staff. When I arrived late on the first night, soaked and exhausted after a delayed flight, the night receptionist, Emre, found me a hot meal even though the kitchen had closed. It was a small thing, and it made the whole trip better.

Please pass on my thanks.

Sincerely,
Jane Okoro
===
Hi everyone,

Quick reminder that the neighborhood street party is on Saturday from 2 p.m. We still need:
- two more tables
- someone with a speaker
- volunteers to help put up bunting at noon
- anyone willing to run the cake stall for an hour

Reply to this email if you can help. And if you have a gazebo, you are now my favorite person.

Cheers,
Bridget (number 27)
===
Dear Ms. Laurent,

We have received your request to cancel your gym membership. Your cancellation will take effect at the end of your current billing period on 30 November. You will continue to have full access to the facilities until then.

We're sorry to see you go. If there's anything we could have done better, we'd be grateful for your feedback.

Best regards,
Member Services
===
Subject: Recipe request

Hi Pedro,

Everyone at the potluck is still talking about your empanadas. My son has asked for them three times since Saturday. Would you be willing to share the recipe? I promise I won't enter them in any competitions.

If it's a family secret, I completely understand, and I'll just have to keep inviting you to potlucks.

Best,
Hélène
===
Hi Ms. Chowdhury,

This is Arjun's dad. Arjun told me last night that he's been having trouble seeing the whiteboard from the back row. We've booked an eye test for next week, but in the meantime, would it be possible for him to sit nearer the front?

Thanks very much, and thank you for everything you do. He talks about your science lessons at dinner constantly.

Best wishes,
Sunil Reddy
===
Subject: Draft agenda for Thursday

Hi both,

Here's a draft agenda for Thursday's planning session:
1. Review of last year's festival (15 min)
2. Budget and sponsorship (20 min)
3. Venue options (20 min)
4. Volunteer recruitment (15 min)
5. Any other business

Let me know if I've missed anything. I'll book the small meeting room and bring biscuits.

Tobias
===
Dear Dr. Nakamura,

Thank you for seeing my mother last Friday. She came home calmer than she has been in weeks, and she said you were the first doctor who had explained her medication in a way she understood.

We will follow the new plan and come back in a month as you suggested. In the meantime, is it possible to contact the nurse if she has a reaction to the new dose?

With thanks,
Lena Brooks
===
Hi Ola,

Attached is the invoice for the translation work completed in May: 14,200 words at the agreed rate, plus the rush fee for the legal documents. Payment within 30 days would be great.

It was a pleasure working on this project. The technical manual was challenging, but I learned a lot about industrial pumps, which I never expected to say.

Best,
Marguerite
===
Subject: Please stop feeding the pigeons

Dear residents,

We have received several complaints about pigeons gathering on the balconies on the south side of the building. It appears someone has been leaving out bread. While we understand the kind intention, the birds are damaging the gutters and the droppings are a health concern.

Please do not feed the pigeons from balconies or windows.

Thank you,
Residents' Committee
===
Hi Fatima,

I can't believe it's been ten years since we graduated! I was looking through old photos and found the one of us on the roof of the library at 4 a.m., finishing the group project. We looked terrible. We were so happy.

I'll be in your city for a conference in October. Can we have dinner? I want to hear everything: the job, the garden, the famous dog.

Hugs,
Giulia
===
Dear Applicant,

Thank you for your interest in the summer internship program. We received over 600 applications this year, and unfortunately we are unable to offer you a place.

We were impressed by your application and encourage you to apply again next year. In the meantime, our public workshops in July are open to everyone and may be of interest.

We wish you the very best in your studies.

Internship Team
===
Subject: Tomorrow's hike is off

Hi all,

Sorry for the late notice, but the park has closed the ridge trail tomorrow because of the storm damage from last night. Several trees came down across the path.

Let's try again next Saturday, same time and meeting point. If the ridge is still closed, we can do the lake loop instead, which is easier but just as pretty.

Stay dry,
Rafael
===
Hi Eleni,

Thank you for lending me your notes from the lectures I missed. They were far better than my own notes, which mostly consist of arrows and one drawing of a cat.

I've photocopied them and will give the originals back on Monday. Let me buy you lunch after the exam, whatever happens.

Thanks again,
Jakob
===
Dear colleagues,

After 31 years at the company, I will be retiring at the end of this month. I want to thank all of you for your kindness, your patience with my jokes, and the countless cups of coffee.

I'm looking forward to spending more time in my garden and, I'm told by my wife, finally fixing the shed door.

Please drop by for cake in the break room on Friday at three.

With warm wishes,
Raymond
===
Subject: Question about my bill

Hello,

My electricity bill for April is almost twice as high as March, although our usage hasn't changed much. The meter reading on the bill (48,213) is also higher than the one I photographed on 30 April (47,904).

Could you check whether the bill is based on an estimate rather than the actual reading? I've attached the photo.

Thank you,
Oscar Lindgren
===
Hi Tess,

Good news: the landlord has agreed to let us paint the living room! Any color except black, apparently, which rules out your original plan.

I picked up some sample pots on the way home: "Morning Fog," "Sage Garden" and one called "Quiet Mushroom," which I bought purely because of the name. Let's test them on Saturday and decide.

I'll make pancakes.
Noa
===
Dear Ms. Abara,

We're pleased to inform you that your short story "The Salt Road" has been selected for publication in the spring issue of Riverlight Magazine. Congratulations!

Our editor will be in touch within two weeks with a few minor suggestions. Please find the contributor agreement attached; we would be grateful if you could sign and return it by 28 February.

Warm regards,
The Editors
===
Subject: Cat sitting instructions

Hi Miriam,

Thank you so much for looking after Mochi while we're away! Quick notes:
- one scoop of dry food morning and evening, half a pouch of wet food at night;
- fresh water daily;
- she will pretend she hasn't been fed. She has.
- the litter box is in the bathroom;
- she likes to be brushed but only on her own terms.

Spare key is under the blue pot. Our vet's number is on the fridge.

Thank you!
Sofie
===
Hi Dr. Osei,

Thanks for the feedback on chapter three. I've restructured the argument as you suggested, moving the case study earlier and cutting the long section on methodology, which I agree was repetitive.

I've attached the revised version with changes tracked. I'm still unsure about the conclusion, which feels abrupt. Could we discuss it at our next meeting?

Best regards,
Hiroshi
===
Dear Parents and Guardians,

The school photographer will be visiting on Wednesday 10 October. Individual and sibling photos will be taken in the morning, and class photos after lunch. Please make sure your child is wearing full school uniform.

If your child is absent on the day, there will be a catch-up session on 24 October.

Kind regards,
School Office
===
Subject: Spare room this weekend?

Hi Ellie,

Bit of a cheeky one: my train to the coast got cancelled and the replacement bus doesn't leave until Sunday morning. Could I possibly sleep on your sofa on Saturday night? I'll bring dinner and I promise to be gone by eight.

Totally fine to say no if you've got plans.

Thanks either way,
Robin
===
Dear Ms. Varga,

Following our conversation on Tuesday, I am pleased to confirm the booking of the main hall for your choir's concert on Saturday 14 December, from 4 p.m. to 10 p.m. The fee, including the use of the piano and stage lighting, is 350.

Please note that the piano will be tuned on the morning of the concert. Chairs for up to 200 people can be set out by our staff if you let us know the layout by 1 December.

Kind regards,
Peter Lund
Venue Manager
===
Hi both,

Just a heads-up that the dishwasher is leaking again, this time from the door seal, not the pipe. I've put a towel under it and I've called the repair company; they can come Thursday between 8 and 12.

Can one of you be home? I'm in the office all day. If not, I'll ask the neighbor to let them in.

Also, whoever left the lasagne dish soaking: it's been four days. It's developing opinions.

M.
===
Subject: Your order has shipped

Hello Jonah,

Good news: your order of seed potatoes and onion sets left our nursery this morning. It should arrive within three working days. Please unpack the box as soon as it arrives and keep the potatoes in a cool, light, frost-free place to sprout before planting.

If anything arrives damaged, reply to this email with a photo and we'll send a replacement.

Happy growing,
The team at Fernhill Nursery
===
Dear Dad,

I'm writing this from the library, because my laptop finally died and I can't afford a new one until payday. Don't worry, I'm not asking for money. I just wanted to say I found the notebook you gave me when I left, the one with your "advice for the real world" written in it. Number 14 ("always carry a pen") saved me in an exam last week.

Number 22 ("learn to cook one good thing") is still in progress.

Love,
Cass
===
MEMO
To: All staff
Re: Fire drill

There will be an unannounced fire drill at some point next week. When the alarm sounds, leave the building by the nearest exit, do not use the lifts, and gather at the assembly point in the car park by the big oak tree.

Fire wardens, please bring your clipboards and high-visibility vests. Last time it took nine minutes to evacuate. Let's aim for under five.

Health and Safety Team
===
Hi Nico,

The photos from the climbing trip are uploaded to the shared album. There are 340 of them, of which about 300 are of Emma's back as she climbs, because she was always in front.

My favorite is the one of you asleep in the van with a banana in your hand.

Same time next year? I've already started looking at the route in the south valley.

Cheers,
Ivo
===
Subject: Apology for yesterday's outage

Dear customers,

Yesterday between 14:05 and 16:40, our online booking system was unavailable. We know many of you were trying to book appointments, and we're sorry for the frustration this caused.

The problem was caused by a faulty update to our database, which we have since reversed. We've added extra checks to prevent it from happening again.

If you missed a booking slot because of the outage, please reply and we'll prioritize your appointment.

The Clinic Team
===
Dear Mrs. Adebayo,

I'm writing to let you know how well Tunde has done this term in mathematics. He has gone from finding fractions difficult to helping other students with them, and his end-of-term test result was the highest in the class.

He sometimes lacks confidence to put his hand up, so please encourage him at home. He has real ability.

Best wishes,
Mr. Halloran
===
Hey everyone,

It's that time again: the annual cousins' weekend! This year it's at Aunt June's place by the lake, 19–21 July. There's room for about twelve inside and as many tents as you like on the lawn.

Please reply by the end of the month so June knows numbers. Bring: a dish for the Saturday barbecue, swimwear and, if you have one, a kayak.

And yes, the talent show is happening. No, you can't get out of it.

Love,
Hana
===
Hi Lorenzo,

Thank you for the quote for the kitchen renovation. We've had a chance to look at it and we'd like to go ahead, with one change: could we keep the existing floor tiles rather than replacing them? They're in good condition and we like them.

Could you send a revised quote and let us know your earliest start date?

Many thanks,
Ada and Ben
===
Subject: Re: Re: Who took my stapler

Dear Colleagues,

The stapler has been found. It was in the meeting room, holding down a stack of agendas from the budget review, where I apparently left it myself.

I apologize to everyone I looked at suspiciously this week, especially Graham.

Ingrid
'''

ESSAY_TEXTS = r'''
Octopuses are among the most intelligent invertebrates known. They can solve simple puzzles, unscrew jar lids and recognize individual humans. Unusually, about two thirds of their neurons are located in their arms rather than their central brain, which means each arm can explore and react to its surroundings with a surprising degree of independence. Despite all this, most octopuses live only one or two years, and they spend most of that time alone.
===
The humble pencil is a small marvel of engineering. Its "lead" contains no lead at all; it is a mixture of graphite and clay, baked so that more clay makes a harder, lighter line and more graphite a softer, darker one. The wooden casing, usually cedar, is made from two grooved slats glued around the core. A single pencil can draw a line said to be tens of kilometers long, and, unlike a pen, it works upside down, in freezing cold and, with a rubber at one end, forgives its user's mistakes.
===
Why do we yawn? The honest answer is that nobody is completely sure. One leading idea is that yawning helps cool the brain: a deep breath of air and the stretching of the jaw increase blood flow to the head. This would explain why people yawn more when they are tired or bored, since brain temperature shifts during those states. Yawning is also contagious, especially between people who know each other well, which suggests it plays some social role too.
===
It is fashionable to complain that modern life is too busy, but busyness is often a choice disguised as an obligation. Many of us fill our calendars because an empty hour feels like a failure. Yet the most useful thinking tends to happen in unscheduled time: on a walk, in the shower, while staring out of a train window. A day with nothing planned is not a wasted day. It might be the only day in a month when you have room to notice what actually matters to you.
===
The printing press, developed in Europe by Johannes Gutenberg around 1440, did not invent the idea of printing; woodblock and movable-type printing existed earlier in China and Korea. What Gutenberg combined was a practical system: metal type cast in reusable molds, an oil-based ink that stuck to metal, and a screw press adapted from winemaking. Within fifty years, millions of books had been printed across Europe, and the cost of spreading an idea had dropped dramatically.
===
Honeybees communicate the location of flowers through a "waggle dance." A returning forager runs in a figure-eight pattern on the vertical comb, waggling her body during the straight middle section. The angle of that run relative to vertical tells other bees the direction of the food relative to the sun, and the length of the waggle indicates distance. It is one of the few known examples of an animal communicating abstract information about a place it cannot currently see.
===
In defense of the long walk: walking is the slowest way to travel anywhere, and that is precisely its value. At four or five kilometers an hour, the world arrives at a pace the mind can absorb. You notice the smell of a bakery, the change in architecture between two streets, the dog waiting outside a shop. Cars and trains compress places into a blur between departure and arrival. Walking turns a journey back into a sequence of places, each one with a little time to be itself.
===
Tides are caused mainly by the Moon's gravity, which pulls slightly more strongly on the side of Earth facing it than on the far side. This difference stretches the oceans into two bulges, one facing the Moon and one opposite it. As Earth rotates through these bulges, most coastlines experience two high tides and two low tides each day. When the Sun and Moon line up, at new and full moon, their effects add together to produce especially large "spring" tides.
===
Salt has shaped human history far more than its place on the dinner table suggests. Before refrigeration, it was the main way to preserve meat and fish, which made it essential for surviving winters and long voyages. Cities grew around salt deposits, trade routes carried it across deserts, and governments taxed it heavily. The tax was so resented in some countries that it became a rallying point for protest, most famously in India's Salt March of 1930.
===
The color of autumn leaves is not added in autumn; much of it was there all along. During the growing season, leaves are packed with green chlorophyll, which masks yellow and orange pigments called carotenoids. As days shorten, trees stop producing chlorophyll, and the hidden yellows appear. The reds and purples are different: they come from anthocyanins that some trees actively produce in autumn, possibly to protect the leaf while the tree reclaims its nutrients.
===
Handwriting is becoming rare, and something small may be lost with it. When we write by hand, we are slower than when we type, and that slowness forces us to summarize rather than transcribe. Several studies suggest students who take notes by hand remember ideas better, perhaps for this very reason. None of this means keyboards are bad. But there is a case for keeping a notebook and a pen on the desk, for the kinds of thinking that benefit from being slowed down.
===
Lightning is a giant electrical spark. Inside a storm cloud, collisions between ice crystals and soft hail separate electric charge, leaving the top of the cloud positive and the bottom negative. When the difference becomes large enough, the air breaks down and a channel of electricity forms, heating the air to around 30,000 degrees Celsius in a fraction of a second. The air expands so fast that it creates a shock wave, which we hear as thunder.
===
The domestication of the dog began tens of thousands of years ago, long before farming. The most widely accepted explanation is that some wolves began scavenging near human camps, and those least fearful of people had an advantage. Over many generations, these animals became tamer and humans began to find them useful as guards and hunting partners. Modern dogs still read human faces and pointing gestures in a way that even wolves raised by people do not.
===
Why are there so many kinds of bread? Bread is one of the oldest prepared foods, and because the basic ingredients, flour, water, salt and some form of leavening, are so simple, each region shaped it to its own grain and climate. Rye thrives in cold, wet northern soils, so dense dark loaves developed there. Wheat-rich regions produced lighter breads. Places without ovens made flatbreads on hot stones or pans. Every loaf is, in a sense, a map of where it came from.
===
Volcanoes are often seen only as destroyers, but they are also builders. Whole islands, such as Hawaii and Iceland, were created by eruptions. Volcanic soils are among the most fertile on Earth, which is why people continue to farm the slopes of active volcanoes despite the danger. Over geological time, volcanic gases helped form the early atmosphere and oceans. Without volcanoes, Earth would be a very different, and likely much less hospitable, planet.
===
The word "robot" comes from a 1920 Czech play, R.U.R. by Karel Čapek, in which artificial workers eventually rebel against their human makers. The word was derived from "robota," meaning forced labor. It is interesting that the first robots in fiction were not metal machines but manufactured biological beings, and that the story was less about technology than about work, exploitation and what makes someone a person.
===
Boredom has a bad reputation, but it may be useful. Psychologists describe it as a signal that our current activity is not meeting our needs, a nudge to look for something more meaningful. In experiments, people who first completed a dull task, such as copying numbers from a phone book, later came up with more creative ideas than those who did not. The trouble with constant entertainment is not that it is bad, but that it never lets that signal speak.
===
Snowflakes form when water vapor freezes directly onto a tiny particle of dust or pollen high in a cloud. Because water molecules bond at fixed angles, the growing crystal takes a six-sided shape. As it falls, the flake passes through air of different temperatures and humidity, and each change affects how its arms grow. Since no two flakes follow exactly the same path through the sky, no two end up exactly alike, although many simple crystals look nearly identical.
===
The library is one of the last public places where you are welcome without being expected to buy anything. You can sit for hours, read the newspaper, use the internet, ask a question of someone whose job is to help you find an answer. In an age when almost every space is designed around spending, that is quietly radical. Libraries are often discussed as if they were about books. They are really about the idea that knowledge and shelter should be shared.
===
Why does a cup of tea cool faster if you blow on it? Blowing replaces the warm, moist air just above the surface with cooler, drier air. This does two things: it increases the transfer of heat from the liquid to the air, and it speeds up evaporation. Evaporation is particularly effective, because the most energetic water molecules escape, taking heat with them. The same principle is why we feel cooler in a breeze when our skin is damp.
===
The Great Wall of China is not a single wall but a collection of walls built, rebuilt and extended over some two thousand years by different dynasties. Much of what tourists see today dates from the Ming dynasty, in the 14th to 17th centuries, and is made of brick and stone. Earlier sections were often made of packed earth. Contrary to a popular claim, it is not visible to the naked eye from the Moon; it is long but very narrow.
===
Good habits are rarely built on willpower alone. The most reliable approach is to make a desired behavior easy and obvious, and an unwanted one hard and invisible. Someone who wants to read more might leave a book on their pillow and move the phone charger to the kitchen. Someone who wants to eat more fruit might put a bowl of it on the counter, at eye level, instead of in a drawer. Environment quietly makes thousands of decisions for us; it makes sense to design it on purpose.
===
Bamboo is a grass, not a tree, and some species are among the fastest-growing plants on Earth, able to grow nearly a meter in a single day under ideal conditions. Because it reaches full height in one season and can be harvested without killing the plant, bamboo has been used for thousands of years in building, scaffolding, paper, furniture and food. Many species flower only once every several decades, and, strangely, all plants of a species often flower and die at the same time.
===
The first known map of the world was carved on a small clay tablet in Babylon around 600 BCE. It shows Babylon at the center, surrounded by a circular ocean, with distant regions described as places "where the sun is not seen." It was less a practical map than a picture of how its makers understood their place in the universe. In that sense, every map since has done the same thing: choosing what to put in the middle.
===
Cities are often warmer than the countryside around them, sometimes by several degrees, an effect known as the urban heat island. Asphalt, concrete and brick absorb sunlight during the day and release it slowly at night. Buildings block wind and trap heat between them, and cars and air conditioners add waste heat. Planting trees, adding green roofs and using lighter-colored surfaces can cool a neighborhood noticeably, which matters more as summers grow hotter.
===
On the virtue of the second draft. First drafts are for getting something down; they are supposed to be messy, overlong and unsure. The real writing happens when you reread with a stranger's eyes and ask what the piece is actually about. Most of the improvement comes from cutting: the introduction that warms up for three paragraphs, the example that repeats the previous one, the word "very." Good writers are not people who write perfect first drafts. They are people who are willing to rewrite.
===
Whales descend from land mammals. About fifty million years ago, their ancestors were four-legged animals living near the shore, roughly the size of a dog or a wolf. Over millions of years, some lineages spent more time in water, their legs shrank, their nostrils moved to the top of the head, and their bodies became streamlined. Modern whales still carry traces of this history: some species have tiny, useless hip bones buried in their bodies.
===
The invention of the refrigerator transformed daily life more quietly than the car or the telephone, but no less deeply. Before it, food had to be bought almost every day, preserved with salt or smoke, or stored in cellars and ice houses. Home refrigerators allowed people to shop less often, keep fresh milk and vegetables for days, and eat a far more varied diet through the year. They also reshaped cities, making large supermarkets possible.
===
Mushrooms are only the fruiting bodies of fungi. The main organism lives underground as a network of fine threads called mycelium, which can spread over huge areas. One honey fungus in Oregon is estimated to cover nearly ten square kilometers and to be thousands of years old. Many fungi form partnerships with tree roots, trading minerals and water for sugars. Some researchers describe these networks as a kind of underground marketplace linking the plants of a forest.
===
Why learn a musical instrument as an adult? Not to become famous, and probably not even to become very good. The reward is stranger and more personal: the moment when your fingers do something today that they could not do last week. Adult learners often feel embarrassed by their slowness, but they have advantages children lack: patience, the ability to practice with a purpose, and a real choice about what music they want to play.
===
Rainbows appear when sunlight enters raindrops, bends, reflects off the back of the drop, and bends again as it leaves. Because different colors of light bend by slightly different amounts, white light spreads into a spectrum. Each drop sends one color to your eye, depending on its angle, so the rainbow you see is made by millions of drops at once, and the person standing next to you sees a slightly different rainbow made by different drops. You always see it with the sun behind you.
===
The Silk Road was never a single road. It was a shifting network of routes connecting China with Central Asia, the Middle East and the Mediterranean, used for more than a thousand years. Silk was only one of the goods carried along it; spices, glass, horses, paper and precious metals moved too. Just as important were the things that traveled without being sold: religions, languages, technologies, recipes, and unfortunately diseases.
===
Most people underestimate how much of their day is governed by routine. That is not a weakness. Routines free the mind from making small decisions, leaving energy for the ones that matter. The problem begins when routines harden and we forget they were once choices. Every so often it is worth asking of each habit: is this still serving me, or am I serving it? Sometimes the answer is to keep it. Sometimes it is to take a different road home.
===
Coral reefs cover less than one percent of the ocean floor but are home to roughly a quarter of all known marine species. The reef itself is built by tiny animals called polyps, which secrete limestone skeletons and live in partnership with algae inside their tissues. The algae provide food through photosynthesis and give corals their colors. When water becomes too warm, corals expel the algae and turn white, a process called bleaching, which can kill them if it lasts too long.
===
The hourglass survived the invention of mechanical clocks for centuries because it did one thing very well: measure a fixed interval without needing to be wound or set. Sailors used half-hour glasses to keep watches and to estimate speed. Preachers used them to time sermons, sometimes turning them over, to the dismay of their congregations, for a second hour. Today they survive mostly in board games and kitchens, still measuring, very honestly, three minutes at a time.
===
Sleep is not a passive state. During deep sleep, the brain replays and consolidates memories of the day, strengthening some connections and pruning others. During dreaming sleep, it appears to process emotions and link new information to older knowledge. The brain's waste-clearing system is also most active during sleep. People who are chronically short of sleep show measurable declines in attention, mood and judgment, often while insisting that they feel fine.
===
The bicycle is one of the most efficient machines ever built. A person on a bicycle uses less energy per kilometer than almost any animal or vehicle, including walking. Its basic form, two wheels of equal size, a chain drive and pneumatic tires, was settled by the 1890s and has changed remarkably little since. For many women at the end of the 19th century, the bicycle also meant independence: the freedom to travel alone, and a reason to wear less restrictive clothing.
===
Why do cats knead with their paws? Kittens knead their mother's belly while nursing to stimulate the flow of milk, and many cats keep the habit into adulthood, usually when they feel content and safe. Kneading may also mark territory, since cats have scent glands in their paws. So when a cat kneads your lap, it is a mixture of comfort, memory and a quiet declaration that you now belong to it.
===
Public parks were a radical idea when they were first created in the 19th century. Most land near cities had been private, and green space was a privilege of the wealthy. Reformers argued that fresh air and open space would improve the health and morals of crowded industrial populations. Today we take parks for granted, but they remain one of the few places where people of every age, income and background share the same ground on equal terms.
===
The Moon is slowly moving away from Earth, at about 3.8 centimeters per year, roughly the speed a fingernail grows. This happens because of tides: Earth's rotation drags the ocean bulge slightly ahead of the Moon, and the bulge's gravity pulls the Moon forward, raising its orbit. In exchange, Earth's rotation slows. Hundreds of millions of years ago, a day lasted only about 22 hours, and the Moon looked noticeably larger in the sky.
===
Compound interest is simple to describe and hard to feel. If you save money at five percent a year, you earn interest not just on what you put in but on the interest you already earned. At first the effect is almost invisible. After ten years, the balance has grown by more than sixty percent; after thirty, it has more than quadrupled. The same mathematics works against you with debt, which is why a small credit card balance left unpaid can grow so quickly.
===
Birds migrate using a remarkable toolkit: the position of the sun, the patterns of stars, landmarks such as coastlines and rivers, and, in many species, an ability to sense Earth's magnetic field. Some young birds make their first migration alone, with no adult to follow, yet still arrive at the right wintering grounds thousands of kilometers away. The bar-tailed godwit has been tracked flying over 11,000 kilometers from Alaska to New Zealand without stopping.
===
Chess is often called a game of pure logic, but much of human skill in chess is pattern recognition. Strong players do not calculate every possibility. They recognize familiar structures on the board, in the same way a reader recognizes words without sounding out letters. In famous experiments, masters could memorize real game positions after a brief glance, but did no better than beginners when the pieces were placed at random.
===
The kitchen knife is one of the oldest tools still in daily use, and choosing one reveals a split between two traditions. German-style knives tend to be heavier, made of softer steel that is tough and easy to resharpen. Japanese-style knives are usually lighter and harder, holding a keener edge but chipping more easily. Neither is better in general. A cook who likes to rock the knife through herbs may prefer one; a cook who slices fish thinly may prefer the other.
===
Why does the sea taste salty while rivers do not? Rainwater is slightly acidic, and as it flows over rocks it dissolves small amounts of minerals, carrying them into rivers and eventually the ocean. When seawater evaporates, the water leaves but the salts stay behind. Over hundreds of millions of years, this has built up to about 35 grams of salt per liter. Rivers are salty too, just far too faintly for us to taste.
===
Procrastination is rarely about laziness. More often it is about emotion: a task makes us feel anxious, bored or inadequate, and putting it off brings immediate relief. That is why advice like "just try harder" rarely works. More helpful is to make the first step tiny, such as opening the document and writing one sentence, and to be kind to yourself about past delays. People who forgive themselves for procrastinating tend to procrastinate less next time.
===
The ancient city of Pompeii was buried by the eruption of Mount Vesuvius in 79 CE, under several meters of ash and pumice. The ash preserved the city with extraordinary detail: bread in ovens, graffiti on walls, political slogans, and even the shapes of victims, recorded as hollows in the hardened ash. Archaeologists have been excavating it since the 18th century, and it remains one of the best windows we have into daily life in the Roman world.
===
Trees in a forest compete for light, but they also interact in less obvious ways. Roots of neighboring trees can graft together, and fungal networks link the roots of different species. Some studies suggest older trees may pass carbon and nutrients to seedlings in deep shade. Scientists still debate how much this sharing matters, but it is clear that a forest is not simply a collection of individual trees. It is a community with a long memory.
===
The humble button has a long history. Early buttons, thousands of years old, were more often ornaments than fasteners. The buttonhole, which made buttons truly practical, seems to have spread in Europe in the 13th century and quickly became a fashion craze, with garments sporting dozens of them. By convention, men's shirts button on the right and women's on the left, a custom whose origins are still argued about and that nobody seems ready to change.
===
Glass is a curious material. It is rigid like a solid, but its atoms are arranged in a disordered way, like a liquid frozen in place. A popular story claims that old cathedral windows are thicker at the bottom because glass slowly flows over centuries. It is not true: at room temperature, glass flows far too slowly to notice in the lifetime of the universe. The uneven panes were simply made that way, and builders often set the thicker edge at the bottom.
===
On the pleasure of cooking for others. A meal made for friends is not really about the food, although the food matters. It is about the hours of attention that went into it, given freely. The person who chops onions for an evening is saying, without having to say it, that the people coming through the door are worth an afternoon. That is why even a simple bowl of soup, shared at a crowded table, can feel more generous than an expensive restaurant.
===
Penguins live only in the Southern Hemisphere, and not all of them live in icy places. The Galápagos penguin lives near the equator, cooled by cold ocean currents. Penguins cannot fly, but their wings have evolved into stiff flippers that make them superb swimmers; some species dive more than 500 meters. Emperor penguins breed in the Antarctic winter, with males balancing a single egg on their feet for about two months without eating.
===
Concrete is the most widely used building material in the world, and the Romans were masters of it. Roman concrete, made with volcanic ash, has survived two thousand years in harbors and domes, including the Pantheon in Rome, still the largest unreinforced concrete dome in existence. Modern researchers study it because, in seawater, it seems to grow stronger over time rather than weaker, as chemical reactions slowly form new minerals inside it.
===
Silence has become a luxury. Cities hum with traffic, and homes with fridges, fans and notifications. Yet research suggests that even short periods of quiet can lower heart rate and blood pressure, and that chronic noise is linked to stress and poor sleep. Seeking silence need not mean a retreat in the mountains. It can be ten minutes in a park without headphones, a phone left in another room, or a morning coffee taken before the rest of the house wakes up.
===
Your sense of taste is mostly smell. The tongue detects only a few basic qualities: sweet, salty, sour, bitter and savory. The rich flavors we associate with food, such as strawberry, coffee or roasted garlic, come from aromas that reach the nose from the back of the mouth as we chew and swallow. This is why food tastes flat when you have a cold, and why holding your nose makes it hard to tell an apple from a raw potato.
===
The first photograph, taken by Joseph Nicéphore Niépce in the 1820s, required an exposure of many hours. It shows a blurry view of rooftops from a window in his house in France. Because the sun moved during the exposure, buildings on both sides of the scene appear lit. Within a few decades, exposures had shortened to seconds, and photography went from a scientific curiosity to a way of recording family faces, wars and distant lands.
===
Why do we find some music sad? Part of it is learned: in Western music, minor keys are often associated with sadness, but listeners from other traditions do not always hear them that way. Part of it seems more universal: slow tempos, low pitches and falling melodies resemble the way people speak when they are sad. Oddly, many people actively enjoy sad music. It may offer a safe way to feel an emotion without any real loss.
===
Deserts are not defined by heat but by dryness. Antarctica is the largest desert on Earth, receiving very little precipitation. Hot deserts such as the Sahara can be freezing at night, because dry air and clear skies let heat escape quickly. Life in deserts is full of clever adaptations: cacti store water in their stems, some beetles collect fog on their backs, and many animals stay underground during the day and come out only at night.
===
Small talk is often dismissed as meaningless, but it does important work. Comments about the weather, the queue or the football score are a way of testing whether a stranger is friendly, and of signaling that we are. They create a little common ground before anything more personal can be said. In studies, people who chatted briefly with a barista or a bus driver reported feeling happier and more connected than those who kept to themselves.
===
The wheel is often named as humanity's greatest invention, but it arrived surprisingly late, around 3500 BCE, thousands of years after farming, pottery and even boats. The difficult part was not the round wheel itself but the axle: the fit between wheel and axle has to be close but not too tight, and the axle must be perfectly round and smooth. Some early wheels were first used not for transport but for making pottery.
===
Ants have been farming for millions of years longer than humans. Leafcutter ants in the Americas cut pieces of leaves and carry them underground, not to eat, but to feed a fungus that they cultivate in special chambers. The ants eat the fungus. They weed their gardens, remove moldy material and even use bacteria that produce antibiotics to protect the crop. Some colonies contain millions of workers with distinct jobs.
===
Maps distort the world, and they cannot avoid it. Flattening the surface of a sphere onto a plane requires stretching something: areas, shapes, distances or directions. The Mercator projection, designed for navigation, keeps angles correct but makes regions near the poles look enormous. On it, Greenland appears about the size of Africa, though Africa is roughly fourteen times larger. Every map is a compromise chosen for a purpose.
===
The teapot, the kettle and the cup of tea are so ordinary in many countries that it is easy to forget tea was once a luxury shipped across the world. It came to Europe from China in the 17th century, and it was expensive enough that it was kept in locked boxes called tea caddies. Its popularity reshaped global trade, helped drive empires, and in one famous case ended up dumped in Boston Harbor as an act of protest.
===
Fireflies produce light through a chemical reaction in their abdomens, combining a molecule called luciferin with oxygen, aided by an enzyme. The light is remarkably efficient, producing almost no heat. Each species has its own flash pattern, used to find mates. In a few places in the world, thousands of fireflies flash in unison, a phenomenon that has drawn scientists and tourists alike, and that still isn't fully understood.
===
Museums are not neutral storehouses. Every choice about what to collect, what to display and how to describe it tells a story about what a society values. A label that says "discovered" instead of "taken" changes the meaning of an object. Over the past few decades, many museums have started to rethink how they present their collections and to return objects to the communities they came from. The conversation is difficult, and it is overdue.
===
Why do we remember some days vividly and forget most others? Memories formed during strong emotions, surprise or novelty tend to be stored more deeply, partly because stress hormones boost the brain's recording system. Routine days blur together because they give the brain little new to store. This is why a week of travel can seem longer in memory than a month at home. If you want time to feel fuller, add small novelties to ordinary weeks.
===
The potato, native to the Andes, was cultivated there for thousands of years before it reached Europe in the 16th century. At first many Europeans distrusted it; it grew underground and belonged to the same family as poisonous nightshade. Once accepted, it transformed diets, since it produced more calories per acre than grain and grew in poor soils. The dependence on a single potato variety also led to disaster, most tragically in the Irish famine of the 1840s.
===
Clouds are made of tiny droplets of water or ice crystals, so small and light that updrafts keep them aloft. A typical cumulus cloud can weigh hundreds of tonnes, yet it floats because its weight is spread over an enormous volume and because rising warm air supports it. Rain forms only when droplets collide and merge until they are heavy enough to fall, which takes about a million cloud droplets to make a single raindrop.
===
In praise of mending. There is a particular satisfaction in sewing a button back on, patching a knee, or gluing the handle onto a favorite mug. Mending makes us look closely at how things are made. It slows down the cycle of buying and throwing away. And a mended object carries a story: the visible darn on an old sweater says that someone thought it was worth keeping. In some traditions, repairs are even highlighted on purpose, as part of an object's beauty.
===
The metric system was born in France in the 1790s, during the Revolution, as an attempt to replace hundreds of local units with a rational system based on nature. The meter was defined as one ten-millionth of the distance from the North Pole to the equator along the meridian through Paris. Two astronomers spent seven years measuring it. Their result was slightly off, but the system spread around the world regardless, and today only a few countries do not use it officially.
===
Elephants are known for their memory, and the reputation seems deserved. Matriarchs, the older females who lead herds, remember the locations of water sources across vast areas and lead their families to them in droughts. Herds led by older matriarchs tend to respond more appropriately to threats such as the roar of a lion. Elephants also show behavior that looks very much like mourning, touching and standing over the bones of dead relatives.
===
The habit of saying "bless you" after a sneeze appears in many languages, and nobody knows exactly how it started. Popular explanations include a belief that the soul could escape during a sneeze, or that the phrase dates from a plague outbreak in which sneezing was an early symptom. Whatever the origin, the custom survives as a tiny act of courtesy between strangers, a reminder that politeness is often older than any reason we can give for it.
===
Walking in a forest has measurable effects on the body. Studies from Japan, where "forest bathing" became popular in the 1980s, found that time among trees was associated with lower levels of stress hormones, lower blood pressure and improved mood compared with time spent walking in a city. Some researchers suspect that compounds released by trees may play a role. Others think it is simply the quiet, the green and the slower pace.
===
Saturn's rings are made of countless pieces of ice and rock, ranging from grains of dust to chunks as large as houses. Although they stretch hundreds of thousands of kilometers across, they are astonishingly thin, in many places only about ten meters thick. Astronomers debate their age: some evidence suggests they may be relatively young in cosmic terms, perhaps a few hundred million years, and that they are slowly raining down onto the planet.
===
Why do we have fingerprints? The ridges on our fingertips may help us grip, although some experiments suggest they actually reduce friction on smooth, dry surfaces. A more convincing explanation is touch: the ridges amplify vibrations when a finger slides across a texture, making us far more sensitive to fine details. Each pattern forms in the womb under the influence of genes and the exact pressure of the fluid around the fingers, which is why even identical twins have different prints.
===
Libraries of seeds are quietly becoming as important as libraries of books. Seed banks store samples of crops and wild plants, dried and frozen, so that varieties lost to disease, war or climate change can be brought back. The largest, on a remote Norwegian island, is built into a mountain and holds over a million samples. It has already been used once, when researchers in the Middle East needed to replace seeds from a bank damaged by conflict.
===
The humble umbrella was for most of its history a sunshade, not a rain protector. In ancient Egypt, China and Assyria, parasols were symbols of rank, held over kings and nobles by servants. Waterproof umbrellas became common in Europe only in the 18th century, and the first men to carry them in the streets of London were mocked for being effeminate. Today, around a billion umbrellas are sold each year, and nearly as many are left on trains.
===
Sound travels about four times faster in water than in air, and much farther. Whales use this to communicate across enormous distances: the low calls of some species can travel hundreds of kilometers. The ocean, however, has grown noisier. Ship engines, sonar and seismic surveys add a constant background hum that can drown out whale calls and disrupt their feeding. Some ports now ask ships to slow down, which also makes them quieter.
===
Teaching someone else is one of the best ways to learn. When we prepare to explain something, we organize what we know, notice the gaps, and look for simple examples. Psychologists call this the protégé effect. Students who tutor younger children often improve in the subject themselves. The same principle works at any age: if you want to understand a topic, try explaining it to a friend, a child or even an imaginary student, out loud.
===
Vanilla is the second most expensive spice in the world after saffron, and the reason lies in its flowers. The vanilla orchid, native to Mexico, blooms for only a single day, and outside its homeland there are no natural pollinators. Since the 19th century, nearly every vanilla flower grown commercially has been pollinated by hand with a small stick, a technique discovered by a twelve-year-old enslaved boy on the island of Réunion, named Edmond Albius.
===
Why do we blush? Blushing happens when blood vessels in the face widen in response to embarrassment, which is triggered by the same system that handles fight or flight. Charles Darwin called it "the most peculiar and most human of all expressions." It can't be faked and it's hard to suppress. Some researchers think it works as an honest signal: by blushing, we show others that we know we've broken a social rule, which tends to make them more forgiving.
===
The first vaccines were developed in the late 18th century, when the English doctor Edward Jenner noticed that milkmaids who had caught cowpox, a mild disease, seemed protected from smallpox. He tested the idea by exposing a boy to cowpox and later to smallpox; the boy did not fall ill. The word "vaccine" comes from the Latin "vacca," meaning cow. Nearly two centuries later, in 1980, smallpox became the first human disease to be declared eradicated.
===
Kindness tends to be remembered far longer than it takes. A stranger who helps carry a pram up the station stairs spends thirty seconds on it; the parent may tell the story for years. Experiments have found that people consistently underestimate how much their small acts of kindness will be appreciated, and so they perform them less often than they might. The lesson is simple: the awkwardness of offering help is usually smaller than we fear, and its effect larger.
===
Sand is surprisingly scarce. Although deserts are full of it, desert sand is too smooth and round, shaped by wind, to bind well in concrete. Construction needs the angular sand found in rivers, lakes and coastlines. Because concrete is used in such huge quantities, sand is now one of the most extracted materials on Earth, and illegal sand mining has damaged rivers and beaches in many countries. It is a reminder that even the most ordinary resource can run short.
'''

POETRY_TEXTS = r'''
The kettle knows the morning first,
before the light, before the birds;
it hums the house awake with heat
and has no need of words.

The cups line up along the shelf,
the bread waits patient in its bag,
and somewhere down the hall a door
swings open on its old brass snag.
===
Rain on the Tin Roof

It starts as someone tapping, shy,
a question asked and not repeated,
then gathers courage from the sky
until the whole roof is defeated.

We lie awake and do not mind.
The world outside has come undone.
In here it's warm, the lamp is kind,
and morning can wait for the sun.
===
My grandmother's hands were maps
of every bread she ever made,
of soap and cold and garden soil,
of forty winters' worth of trade.

She'd press them flat against my cheek
and say nothing, which said it all.
I have her ring. I have her spoon.
I don't have hands like hers at all.
===
(Verse)
Left my keys on the kitchen table,
left my heart on the 5:15,
I keep saying that I'm able,
but I'm not as strong as I seem.

(Chorus)
So roll on, river, roll on slow,
carry me where the willows grow,
I don't need to know the way,
just get me through another day.
===
The moon came down to the harbor
to look at itself in the sea.
The fishermen didn't notice.
The gulls were all asleep.
Only a cat on a coil of rope
looked up and blinked, and then
turned back to the important work
of washing its paws again.
===
A list of things the snow forgot:
the red of the shed, the line of the wall,
the path to the gate, the shape of the plot,
the ditch, the stump, the fence, and all

the little noises of the lane.
It laid them under, one by one,
and now the world is white and plain
and waiting quietly for the sun.
===
Sonnet for a Small Town Library

Two rooms, a radiator, and a clock
that's seven minutes slow since '92;
a wooden stamp, a drawer that needs a knock,
a carpet worn to threads the color blue.
And yet the whole wide world is on these shelves:
the deserts and the wars, the comets' trails,
the lives that other people lived themselves,
the cookbooks and the courts and whaling tales.
The children come on Tuesdays after school.
The old men come for papers and for heat.
The librarian keeps a single rule:
whatever else you do, you wipe your feet.
===
The heron stands in the river
as if it had been placed there
by someone very patient
who then forgot to come back.

It does not move for an hour.
The water moves for it.
Then, once, the sudden needle,
and the silver is gone, and so is the heron.
===
I wanted to write you a poem
but the dog needed walking,
the soup needed stirring,
the sky needed looking at
for longer than I planned.

So here is the walk, the soup, the sky.
I'm sending them instead.
They were better anyway.
===
Lullaby for a Stormy Night

Hush now, the wind is only wind,
it has nowhere to go;
it rattles at the window pane
because it's lonely, so.

Hush now, the rain is only rain,
it's washing down the street,
so everything is clean for you
when morning finds your feet.

Hush now, the night is only night,
and I am only here,
and I will stay until you sleep,
and then I'll still be near.
===
City at 4 a.m.

The street sweeper sings to no one.
A fox crosses the square like a rumor.
The baker's window turns gold
one tray at a time.
Somewhere a phone rings and stops.
A pigeon rehearses its only note.
And the city, which never sleeps,
pretends for an hour that it does.
===
Apples in October

They fall whether or not you catch them,
thudding softly in the long grass,
the wasps arriving like relatives,
the air gone sweet and a little drunk.
We fill the baskets, then our pockets,
then our arms, then give up,
and sit with our backs against the trunk
eating the ones with the best bruises.
===
(Chorus)
Oh, Carolina, don't you cry,
the trains still run beneath that sky,
and every whistle that you hear
is me, a little closer, dear.

(Verse 2)
I've worked the fields of three states over,
slept in barns and counted stars,
I've traded songs for rides and clover
and carried you in my guitar.
===
The Lost Glove

One glove on a railing, fingers spread,
waving at the buses, hand without a head.
Someone's walking somewhere with one cold hand,
not yet noticing, not yet understanding.
By evening it will be a small sad shape.
By morning someone kind will drape
it higher on a post where it can be seen,
a flag for a country of one, in faded green.
===
Today I did nothing remarkable.
I watered the plants. I read four pages.
I called my brother and we talked
about his car for twenty minutes.
I ate an orange at the window
and watched a woman chase her hat.
If this is all a life is made of,
I think I would like a lot of it.
===
Ode to a Wooden Spoon

You have stirred more soup than any king
has ever tasted; you have known
the bottom of the biggest pot,
the bite of jam, the burn of bone.
Your edge is worn by fifty years
of circles in the same direction.
You'll never break. You'll never shine.
You're a kind of quiet perfection.
===
The train leaves at seven.
I will not be on it.
I will be here, with the kettle,
with the cat on the chair,
with the letter I haven't opened.
The train will reach the coast by noon
and somebody else will see the sea
and think, as I would have, how wide it is,
how it doesn't need us at all.
===
Spring comes late to the mountain.
The snow gives way in patches,
like an old coat wearing through,
and under it the grass is flattened, pale,
surprised to be remembered.
By June there are flowers no bigger than a thumbnail,
yellow, blue, insistent,
growing as fast as they can
in the short time they have been given.
===
Small Song

Bread and a bit of butter,
a window and some rain,
a letter from a friend
who's coming home again.

A blanket and a story,
a candle and a chair.
It doesn't look like much.
It's everything, from here.
===
The Owl

At dusk the owl unfolds itself
from the hollow of the oak,
a shadow leaving shadow,
soft as a rumor, quiet as smoke.
The mice go still in the meadow.
The moon comes up like a plate.
And all night long the forest listens
to the owl deciding its fate.
===
What the River Said

I have been a cloud and a glacier,
a puddle on a school playground,
a cup of tea in a kitchen in 1903,
the tear on a soldier's face.
I have been everywhere, eventually.
Don't take it personally if I don't stop.
I am carrying all of it to the sea,
and the sea is carrying all of it back.
===
(Verse)
Saturday night and the diner's glowing,
neon buzzing like a bee,
coffee's hot and the jukebox knowing
every song that's meant for me.

(Chorus)
Slide on over, make some room,
we'll dance beside the counter soon,
the cook is singing, the cashier too,
and nobody's sad at a quarter to two.
===
On Turning Forty

Nobody told me it would feel like this:
not old, exactly, just more clearly mine.
The knees complain; the heart does not.
I've stopped apologizing for the time
I take to choose a melon or a word.
I've learned the names of seven kinds of bird.
I know which friends will answer in the night.
I think, on balance, I've turned out all right.
===
The lighthouse does not chase the ships.
It does not call their names.
It simply stands where it was built
and burns, and burns, and waits.

I'd like to be a little more
like that, on certain nights:
less running after everyone,
more keeping on the lights.
===
Inventory of a Kitchen Drawer

Three corks, a birthday candle,
a key that opens nothing now,
rubber bands gone brittle,
a ladle's broken handle,
a takeaway menu from a place that closed,
string, a battery of unknown strength,
and the note you wrote me in 2009:
"back soon, love, the soup is on low."
===
The first cold morning of the year,
the breath goes out in little clouds,
the cars wear frost like sugar,
and every dog walks proud.

The children stamp on puddles
to hear the ice give way,
and all the leaves that held on late
let go, at last, today.
===
Migration

They leave without a suitcase,
without a map or name,
and cross a thousand kilometers
of weather, wind and rain;
and somewhere far in Africa
they land on the same wire
their grandmothers landed on,
and sing a little, and retire.
===
My father never said the word,
but every winter he would go
out at six to clear the car
of ice and heavy snow,
and when I came out, late and cross,
the engine warm, the windows clear,
he'd already be inside,
pretending he'd not been near.
===
Beach in November

The ice cream stand is boarded up.
The lifeguard chair is leaning.
A single dog runs wild with joy,
a plastic bag careening.
The sea is grey and full of itself,
the sky the color of a spoon.
I like it best like this: the shore
with no one on it but the moon.
===
(Verse)
I've got a little house on a little hill,
a garden full of beans,
a rooster who won't keep still,
and patches on my jeans.

(Chorus)
And I don't need the city lights,
I don't need the crowds,
I've got the stars on summer nights
and the songs of the clouds.
===
For the Night Nurse

She moves through the ward like a lantern,
checking each breath as she goes,
adjusting a blanket, a pillow,
a drip that runs too slow.
Nobody will remember her name.
Nobody writes songs about four a.m.
But twenty people woke up this morning
partly because of her, and that's a hymn.
===
The first time I saw snow,
I thought the sky had broken
and was falling down in pieces
that nobody had spoken.
I stood in the yard in my pajamas
with my mouth open wide.
My mother called me twice, then came
and stood with me outside.
===
Ten Minutes Before the Exam

The corridor smells of floor wax and fear.
Someone is whispering the dates of kings.
Someone is eating a banana with terrible focus.
A boy is praying to a pencil.
The clock above the door says nothing helpful.
Then the door opens, and we go in,
thirty small ships
heading into the same weather.
===
Tomatoes

All summer they refused to ripen,
green and hard as little stones,
and I stood over them each evening
like a worried parent at the phone.
Then one week in September
they all turned red at once,
and I ate them in the garden,
warm, with salt, like a fool, like a prince.
===
Hands

These hands have held a newborn,
a shovel, a steering wheel,
a letter I shouldn't have opened,
a knife, a rope, a meal.
They've waved at departing trains
and pulled a friend from the sea.
They're wrinkled now and slower,
but they're still the hands of me.
===
Night Bus

The driver hums a song he doesn't know.
A nurse is sleeping with her head against the glass.
Two teenagers share one pair of headphones.
An old man counts his coins three times.
The city passes like a film we've all seen,
orange lights, closed shops, a cat on a wall.
Nobody speaks. Everyone is going home.
That's enough to make us, for a while, a kind of family.
===
A Poem About Socks

Where do they go, the missing socks,
the blue one and the one with stripes?
Is there a country past the dryer
where they live their quiet lives,
single, free and unmatched,
dancing in their heels at night,
laughing at the ones still paired
and folded tight, and tucked in right?
===
Dandelions

Everyone calls them weeds
except the children,
who pick them by the fistful
and present them like treasure
to their mothers,
who put them in a glass of water
on the kitchen table,
where they are, for one whole day, the best flowers in the world.
===
The hills at evening, folded blue,
the last light caught on a barn roof,
a tractor crawling home along the ridge,
a dog barking twice, then quiet.
From the porch I can see three villages,
each one turning on its lamps,
as if they were calling to each other
in a language made of windows.
===
(Verse)
We were seventeen and the summer was long,
we had one old car and a single song,
we drove to the lake with the windows down
and swore we'd never go back to town.

(Chorus)
Oh, the water was cold and the night was warm,
we lay on the dock and watched the storm
roll in from the west like a slow freight train,
and we laughed out loud in the first of the rain.
===
Cartographer

She drew the rivers first,
because rivers do not lie;
then hills, in careful shadow;
then roads, which change their minds.
She left the forests blank
for whoever came after,
and in one corner, very small,
she drew her own house, with smoke.
===
After the Party

Glasses with lipstick on the rims,
a paper crown beneath the chair,
balloons gone soft and drifting low,
confetti in the dog's hair.
The music's off. The guests are gone.
The candles have burned down to wax.
We sit among the wreckage, glad,
too tired and too happy to relax.
===
What I Know About Bees

They do not think about the flower
as a flower. They think: now.
They think: here. They think: sweet.
They do not worry about winter,
although winter is the reason for all of it.
They dance the map of the meadow
for sisters they will never meet again,
and die in the autumn with their wings in rags.
===
Ironing

My mother ironed on Sunday nights
with the radio on low,
the hiss of steam, the smell of cotton,
the shirts in a folded row.
She ironed my father's collars flat
and the creases in my school skirt,
and I think now she was smoothing out
the whole week's worth of hurt.
===
The Old Dog

He no longer runs to the door.
He lifts his head, and thumps his tail
twice on the floor, which is enough
to say: I heard you. Welcome home.
His walks are short. He stops to smell
each post as though it were a letter
from an old friend. I let him read.
There is no need to hurry now.
===
The Bus Stop in the Rain

We stand apart, as strangers do,
and watch the road and count the drops;
a woman with a bag of shoes,
a boy with earphones, two old cops.
Then someone laughs at nothing much,
the gutter gurgles like a drain,
and suddenly we're all in it,
a little congregation of the rain.
===
Instructions for the House-Sitter

Feed the cat at six and eight,
she'll tell you that you're running late.
The tap drips; ignore it, please.
The plants need water, not the trees.
The radio is stuck on jazz.
The freezer holds more soup than it has
any right to. Eat your fill.
Lock the door. Look at the hill.
===
Winter Kitchen

The window steams. The soup is on.
My mother's radio is talking
about a storm out at sea
that will never reach us here.
There is bread on the board, a knife, a towel,
an orange someone left half-peeled.
The cat has chosen the warmest chair.
Outside, the dark came at four and stayed.
===
(Verse)
Carry me home on a Sunday train,
through fields of mustard and the smell of rain,
past every town I used to know,
past the river and the mill below.

(Chorus)
And if you're waiting on the platform there,
with the wind in your coat and the sun in your hair,
I'll know the journey was worth the fare,
I'll know that home was anywhere.
===
For My Daughter, Learning to Ride

I run beside you, holding the seat,
and you are shouting, don't let go,
and I am shouting, I won't, I won't,
and then I do, and you don't know,
and you are flying down the path alone,
wobbling, brilliant, almost grown,
and I stand still with empty hands,
which is, I'm learning, how this goes.
===
The Fog

It came in overnight across the marsh
and took the church, the pylons and the trees,
and left us only what was close at hand:
the gate, the puddle, and the neighbor's keys
still dangling from the lock where he forgot them.
All morning we moved carefully, like guests
in our own village, speaking low, as if
the fog were listening, and deserved our best.
===
Late Shift

At the all-night garage the girl at the till
is reading Russian novels between customers.
A trucker buys coffee and a bag of mints.
A fox sits at the edge of the forecourt light,
bold as a regular. Nobody shoos it.
At five the sky begins to thin.
She turns the page. Somebody's marriage is failing
in nineteenth-century Moscow. Outside, the birds start.
===
Stones

I keep a stone from every beach:
a grey one from the north, a white,
a green one veined like a leaf,
a black one from a wedding night.
They sit in a bowl by the door
and do not look like much to guests.
But pick one up, and I will tell you
the whole day, the weather, the rest.
'''

QA_TEXTS = r'''
Q: Can I bring my dog to the farmers' market?
A: Yes, dogs are welcome as long as they are on a short lead and under control. Please keep them away from food stalls and clean up after them. Water bowls are available at the information tent.

Q: Is there parking?
A: There is free parking behind the town hall on market days, but it fills up by 9 a.m. Bicycle racks are at both entrances.
===
Frequently asked questions: Library membership

Who can join? Anyone who lives, works or studies in the county, free of charge.
What do I need? A photo ID and proof of address, such as a recent bill.
How many books can I borrow? Up to 15 items at a time, for three weeks.
Can I renew online? Yes, up to three times, unless someone else has reserved the item.
What if I lose a book? Tell us; you'll be asked to pay the replacement cost.
===
Q: Why does bread go stale?
A: Staling isn't mainly about drying out. As bread cools and sits, the starch molecules that were softened during baking slowly re-form into a more crystalline, rigid structure, a process called retrogradation. That's why stale bread can briefly soften again when you warm it in the oven: the heat loosens the starch once more. Storing bread in the fridge speeds staling, so the freezer is a better choice for keeping it.
===
Q: How long should I boil pasta?
A: Check the packet, but start tasting two minutes before the time it gives. Pasta is ready when it's tender but still has a slight firmness at the center, what Italians call "al dente." If you're finishing it in a sauce, take it out a minute early, because it will keep cooking in the pan.

Q: Should I add oil to the water?
A: No. It just floats on top. Use plenty of well-salted water and stir in the first minute.
===
FAQ: Returns and exchanges

How long do I have to return an item?
You can return unworn items within 30 days of delivery.

Do I have to pay for return shipping?
Returns are free within the country. International returns are at your own cost.

When will I get my refund?
Within 5–7 working days after we receive the item.

Can I exchange for a different size?
Yes. Choose "exchange" in your account and we'll send the new size as soon as the original is on its way back.
===
Q: Why do we have daylight saving time?
A: The idea is to shift clocks forward in summer so that evenings have more daylight, which was originally promoted as a way to save fuel and energy. It was first adopted widely during the First World War. Whether it saves energy today is debated, and some countries have abandoned it because of the disruption to sleep and schedules twice a year.
===
Q: What's the difference between a virus and a bacterium?
A: Bacteria are single-celled living organisms that can reproduce on their own; many are harmless or even helpful, like those in your gut. Viruses are much smaller and can't reproduce by themselves. They have to get inside a living cell and hijack it to make copies. That's why antibiotics, which target bacteria, do nothing against viral infections such as colds and flu.
===
Frequently asked questions about the swimming pool

Do I need to book? Lane swimming must be booked online; family sessions are walk-in.
Are swimming caps required? Only for people with hair longer than shoulder length.
Can children swim alone? Children under 8 must be accompanied by an adult in the water.
Is there a café? Yes, on the first floor, open until 7 p.m.
What should I bring? A towel, a padlock for the lockers, and a one-euro coin if you forget the padlock.
===
Q: How do noise-cancelling headphones work?
A: Tiny microphones on the headphones listen to the sound around you. A chip then creates a sound wave that is the exact opposite of the incoming noise, peaks where it has troughs, and plays it through the speakers. When the two waves meet, they largely cancel each other out. This works best for steady, low sounds like engine hum, and less well for sudden or high-pitched noises like voices.
===
Q: Is it okay to wake a sleepwalker?
A: It's a common myth that waking a sleepwalker is dangerous. It isn't harmful, but they may be confused or startled. The better approach is to gently guide them back to bed without fully waking them. If sleepwalking happens often or the person puts themselves at risk, it's worth talking to a doctor and making the home safer, for example by locking doors and windows.
===
Q: Why is it called a "hat trick"?
A: The term comes from cricket in the 19th century. When a bowler took three wickets with three consecutive balls, the club would sometimes present them with a new hat, or pass a hat around to collect money for them. The phrase later spread to other sports, especially football and ice hockey, where it means one player scoring three goals in a single game.
===
Q: My houseplant's leaves are turning yellow. What am I doing wrong?
A: The most common cause is overwatering. Check whether the soil is soggy and whether the pot has a drainage hole. Let the top few centimeters dry out before watering again. Other causes include too little light, a sudden draft, or simply old leaves at the bottom being shed naturally. If only the lowest leaves yellow slowly, it's usually nothing to worry about.
===
Q: How does a refrigerator keep things cold?
A: It moves heat rather than making cold. A special fluid, the refrigerant, is pumped around a closed loop. Inside the fridge, it evaporates and absorbs heat from the food compartment. A compressor then squeezes the gas, which makes it hot, and it releases that heat through the coils at the back as it turns back into liquid. That's why the back of a fridge feels warm.
===
FAQ: Volunteering at the animal shelter

How old do I need to be? 16, or 12 with a parent volunteering alongside you.
How much time do I need to give? At least one 3-hour shift every two weeks.
Do I need experience? No. All volunteers attend a 2-hour induction.
What will I do? Walking dogs, socializing cats, cleaning kennels and helping at adoption days.
Can I foster an animal? Yes, after three months of regular volunteering.
===
Q: How can I tell if an egg is raw or hard-boiled without breaking it?
A: Spin it on a flat surface. A hard-boiled egg spins quickly and smoothly because its contents are solid and move with the shell. A raw egg wobbles and spins slowly, because the liquid inside sloshes around. For extra proof, touch the spinning egg briefly to stop it and let go: a raw egg will start turning again as the liquid inside keeps moving.
===
Q: Why do some people sneeze when they look at the sun?
A: It's called the photic sneeze reflex, and it affects roughly one in four people. The exact cause isn't known, but one theory is that the nerve that carries signals from the eyes runs close to the nerve involved in sneezing, so a sudden bright light triggers both. It tends to run in families, so if you have it, there's a good chance one of your parents does too.
===
Q: How often should I replace my toothbrush?
A: Dentists generally recommend every three to four months, or sooner if the bristles are frayed. Worn bristles don't clean as well. It's also a good idea to replace it after you've been ill.

Q: Electric or manual?
A: Both work well if used properly for two minutes, twice a day. Electric brushes can make good technique easier, especially for people with limited dexterity.
===
Q: What is the difference between a hurricane, a typhoon and a cyclone?
A: They are the same kind of storm: a powerful rotating tropical storm with sustained winds of at least 119 km/h. The name depends on where it forms. In the Atlantic and northeast Pacific it's a hurricane; in the northwest Pacific it's a typhoon; in the South Pacific and Indian Ocean it's a cyclone.
===
Q: Do we really only use 10 percent of our brains?
A: No. This is one of the most persistent myths about the brain. Brain imaging shows that we use virtually all of it, although not every region is active at the same time. Even during sleep many areas are busy. Damage to almost any part of the brain causes some kind of problem, which would not be the case if ninety percent of it sat idle.
===
Frequently asked questions: Community garden plots

How big is a plot? Most are 3 by 6 meters; half plots are available.
How much does it cost? 40 a year, including water. Reduced rates are available.
Is there a waiting list? Yes, usually around six months.
Can I use pesticides? Only organic treatments are allowed.
What if I go away? Ask a neighboring plot holder to water for you; most people are happy to swap favors.
===
Q: Why does my voice sound strange on recordings?
A: When you speak, you hear your voice in two ways: through the air, like everyone else, and through the bones of your skull, which carry lower frequencies and make your voice sound deeper and fuller to you. A recording only captures the air-borne sound, so it seems thinner and higher than the voice you're used to. Everyone else, however, hears you exactly like the recording.
===
Q: How can I get rid of hiccups?
A: There's no guaranteed cure, but most remedies work by interrupting the breathing rhythm or stimulating the nerves involved. Try holding your breath for about ten seconds, drinking a glass of cold water slowly, or swallowing a spoonful of sugar. Most hiccups stop on their own within minutes. If they last more than two days, it's worth seeing a doctor.
===
Q: Why are flamingos pink?
A: Because of what they eat. Flamingos feed on algae, brine shrimp and other small creatures rich in natural pigments called carotenoids. Their bodies break these down and deposit pigment in their feathers, skin and legs. Flamingos in zoos are fed special diets to keep their color; without the pigments, their feathers slowly fade to a pale, almost white shade.
===
Q: What does "RSVP" mean on an invitation?
A: It stands for the French phrase "répondez s'il vous plaît," meaning "please reply." It asks you to tell the host whether or not you will attend, usually by a certain date.

Q: Do I need to reply if I'm not coming?
A: Yes. Replying either way helps the host plan food, seating and numbers.
===
FAQ: Night bus service

When does it run? Every night from midnight to 5 a.m., every 30 minutes.
Can I use my day ticket? Yes, if it was bought the same calendar day; after that you need a new one.
Are bicycles allowed? Folding bicycles only.
Is it safe? Every night bus has a CCTV system and the driver can contact help immediately.
Where does it stop? All regular stops on lines 1, 4 and 9, plus the hospital and the train station.
===
Q: Why is the ocean blue?
A: Mostly because water itself absorbs red, orange and yellow light slightly more than blue. In a glass this effect is too weak to see, but through many meters of water it adds up, so the light that bounces back to our eyes is mostly blue. Reflections of the sky add to the effect on sunny days. Particles, algae and sediment can turn the water green, brown or turquoise.
===
Q: Can you explain what a "carbon footprint" is?
A: It's the total amount of greenhouse gases, mostly carbon dioxide, released as a result of something: a person's lifestyle, a product, a company or an event. It's usually expressed as an equivalent amount of carbon dioxide. For an individual, the biggest contributors are typically transport, especially flying and driving, home heating and electricity, and diet.
===
Q: Why do leaves change color at different times?
A: Each tree species responds differently to shortening days and cooling temperatures, and individual trees vary too. Trees under stress, from drought or poor soil, often turn earlier. Trees near streetlights may keep their leaves longer because the artificial light confuses their sense of day length. That's why in some cities you can see one green tree under a lamp surrounded by bare neighbors.
===
Q: How many hours of sleep do teenagers need?
A: Sleep experts recommend eight to ten hours a night for teenagers aged 13 to 18. Many get far less. Part of the reason is biological: during puberty, the body's internal clock shifts later, so teenagers naturally feel sleepy later at night and find it harder to wake early. This is one reason some schools have experimented with later start times.
===
Q: What's the best way to store fresh herbs?
A: Soft herbs like parsley, coriander and mint keep best like flowers: trim the stems, stand them in a glass of water, and cover loosely with a plastic bag in the fridge. Basil is the exception; keep it on the counter, as it blackens in the cold. Woody herbs like rosemary and thyme keep well wrapped in a slightly damp paper towel in a container in the fridge.
===
Q: Why do we get goosebumps?
A: When we're cold or have a strong emotion, tiny muscles at the base of each hair contract, pulling the hair upright and forming small bumps on the skin. In furry ancestors this fluffed up the fur, trapping warm air or making the animal look bigger to a threat. In humans, with so little body hair, it does almost nothing useful, but the reflex remains.
===
Q: Is a tomato a fruit or a vegetable?
A: Botanically, a tomato is a fruit, because it develops from the flower and contains seeds. In cooking, it's usually treated as a vegetable because it's savory rather than sweet. Both answers are right in their own context. The same is true of cucumbers, peppers, courgettes and aubergines, which are all fruits to a botanist.
'''

# one haiku per line, lines separated by ' / '
HAIKU = r'''
first warm afternoon / the cat rearranges itself / to follow the sun
empty train platform / a paper cup rolls along / chasing the last train
morning fog lifting / the fisherman and his boat / appear all at once
old stone bridge / the river keeps on saying / the same long word
summer thunderstorm / the children race the raindrops / and lose, and laugh
dry autumn leaves / the smallest gust of wind / sends them off like mice
snow on the mailbox / no letters today / only the birds' footprints
the kettle whistles / in the next room someone / stops crying to listen
late cherry blossom / one petal lands in my tea / I drink it anyway
heat haze on the road / a tractor shimmering / like a mirage of itself
new moon tonight / the frogs are louder / to make up for it
the dog's water bowl / a single floating leaf / a tiny boat
after the funeral / someone has left the porch light / on for no one
a crow on the fence / looking at me / as if I owe it money
spring cleaning / in the pocket of an old coat / a ticket to the sea
long summer evening / the sound of a neighbor's radio / and a distant mower
a spider's web / strung between two roses / holding the dew up to the light
cold bus shelter / two strangers sharing / one umbrella's worth of talk
pumpkin on the step / by the weekend its grin / has grown a little sad
the wind picks up / the laundry on the line / waves at the whole street
midnight snowfall / the streetlight hums / a long soft note
sunlight through the blinds / stripes across the sleeping cat / a tiger for an hour
the old orchard / one apple left on the tree / holding on to autumn
hospital window / a sparrow on the ledge / visits every morning
low tide at dawn / a child with a bucket / inspects each pool
slow river barge / the man at the tiller / eating a pear
grandmother's garden / the same red roses / forty summers on
paper lanterns / drifting down the river / carrying our names
the last day of school / a balloon escapes / over the rooftops
frozen pond / the ducks stand on their reflections / looking puzzled
the library at noon / a radiator ticks / like a patient clock
crickets in the grass / the whole field humming / one warm note
walking home late / my shadow and I / take turns leading
first snow of winter / the whole town goes quiet / as if to listen
market morning / the fish seller sings / a song about prices
harvest moon / the farmer leans on his gate / counting nothing
an old photograph / my father at nineteen / squinting at the sun
rain on the skylight / the baby falls asleep / to the drumming
mountain cabin / the fire has burned down / the stars have not
a single firefly / blinking in the jar / let it go, let it go
empty playground / the swing still moving / in the wind alone
the neighbor's piano / scales going up and down / all Saturday morning
heavy summer air / even the dog / has given up barking
a paper boat / sails down the gutter / the captain running after
the bakery at dawn / a line of sleepy people / breathing in the bread
winter sunrise / the frost on every blade of grass / catches fire at once
a lost mitten / placed on top of a fence post / waving at the cold
the old clock stops / and for the first time / I hear the rain
moving day / the empty rooms / larger than I remembered
in the shallow pool / a tadpole practices / being a frog
footprints in the sand / the tide comes in / and keeps them for itself
train window / field after field / of sleeping cows
a hawk circles / the whole meadow / holds its breath
wet pavement / the neon sign / doubles itself
the scent of lilac / drifting over the fence / an invitation
night shift ends / the nurse walks home / into the sunrise
fishing line / the float bobs once / then the whole lake waits
a cup of cocoa / steam rising / into the window's frost
after the storm / the fallen tree / full of curious children
evening bells / the pigeons rise / and settle on the same roof
the empty nest / in the hedge by the door / I leave it there
desert night / the sand still warm / the stars impossibly near
a brown moth / knocking at the lamp / all night, all night
autumn wind / the scarecrow's hat / goes on ahead
the old dog sleeps / dreaming, his paws / still chasing rabbits
first day of spring / the old man in the park / takes off his scarf
rowing at dusk / each stroke scatters / a little of the sunset
birthday candles / the child closes her eyes / longer than needed
the washing machine / spins and spins / a small storm in the house
lighthouse beam / sweeping the black water / the same question all night
a bee in the foxglove / only its legs / showing
quiet snowfall / the radio announcer / lowers his voice too
shelling peas / on the back step / the sound of summer
a kite string snaps / the kite goes higher / free at last, and lost
'''

# category|question|answer
TRIVIA = r'''
Geography|What is the longest river in South America?|The Amazon, which also carries more water than any other river on Earth.
Geography|Which country has the most time zones, counting its overseas territories?|France, with twelve.
Geography|What is the capital of Canada?|Ottawa, not Toronto or Montreal.
Geography|Which desert is the largest hot desert in the world?|The Sahara, covering much of North Africa.
Geography|On which continent is the Atacama Desert?|South America, mostly in northern Chile.
Geography|What is the smallest country in the world by area?|Vatican City, at under half a square kilometer.
Geography|Which lake is the deepest in the world?|Lake Baikal in Siberia, more than 1,600 meters deep.
Geography|Through how many countries does the Danube flow?|Ten, from Germany to Ukraine, more than any other river.
Geography|What is the highest waterfall in the world?|Angel Falls in Venezuela, with a drop of about 979 meters.
Geography|Which two countries share the longest international border?|Canada and the United States.
Geography|What is the capital of Australia?|Canberra, a city built specifically to be the capital.
Geography|Which sea has no coastline?|The Sargasso Sea, bounded by ocean currents rather than land.
Geography|Which country is home to the city of Timbuktu?|Mali.
Geography|What is the largest island in the Mediterranean Sea?|Sicily.
Geography|Which mountain range separates Europe from Asia?|The Ural Mountains.
Geography|What is the northernmost capital city of a sovereign state?|Reykjavík, the capital of Iceland.
Science|What is the chemical symbol for gold?|Au, from the Latin word "aurum."
Science|What is the hardest natural substance?|Diamond.
Science|At what temperature are Celsius and Fahrenheit equal?|At minus 40 degrees.
Science|What gas do plants absorb from the air for photosynthesis?|Carbon dioxide.
Science|How many bones does an adult human have?|206.
Science|What is the most abundant gas in Earth's atmosphere?|Nitrogen, about 78 percent.
Science|What part of the cell is often called its powerhouse?|The mitochondrion, which produces most of the cell's energy.
Science|Which element has the atomic number 1?|Hydrogen.
Science|What is the speed of light in a vacuum, roughly?|About 300,000 kilometers per second.
Science|What do you call a substance that speeds up a chemical reaction without being used up?|A catalyst.
Science|Which organ in the human body uses about a fifth of our energy at rest?|The brain.
Science|What is the only metal that is liquid at room temperature?|Mercury.
Science|Which blood type is known as the universal donor for red cells?|O negative.
Science|What is the name for animals that are active at dawn and dusk?|Crepuscular.
Science|What does DNA stand for?|Deoxyribonucleic acid.
Science|Which vitamin does the skin make when exposed to sunlight?|Vitamin D.
History|In what year did the Berlin Wall fall?|1989, on the night of November 9.
History|Who was the first woman to win a Nobel Prize?|Marie Curie, in physics in 1903.
History|Which ancient wonder stood in the harbor of Rhodes?|The Colossus, a giant bronze statue of the sun god Helios.
History|What was the name of the ship on which the Pilgrims sailed to America in 1620?|The Mayflower.
History|Which empire built Machu Picchu?|The Inca Empire, in the 15th century.
History|Who painted the ceiling of the Sistine Chapel?|Michelangelo, between 1508 and 1512.
History|What did the Rosetta Stone help scholars decipher?|Egyptian hieroglyphs, because it carries the same text in three scripts.
History|In which city was the first modern Olympic Games held in 1896?|Athens.
History|Which queen ruled England for 45 years in the 16th century?|Elizabeth I, from 1558 to 1603.
History|What was the first country to give women the vote in national elections?|New Zealand, in 1893.
History|Which ancient city was buried by Mount Vesuvius in 79 CE, along with Pompeii?|Herculaneum.
History|Who was the first person to walk on the Moon?|Neil Armstrong, in July 1969.
History|Which explorer's expedition was the first to sail around the world?|Ferdinand Magellan's, though he died on the way; the voyage ended in 1522.
History|What writing material was made from a reed that grew along the Nile?|Papyrus.
History|What was the name of the trade network linking China and the Mediterranean?|The Silk Road.
Animals|What is a group of crows called?|A murder.
Animals|How many hearts does an octopus have?|Three.
Animals|What is the fastest land animal?|The cheetah, which can sprint at around 100 km/h.
Animals|Which bird lays the largest eggs?|The ostrich.
Animals|What is a baby kangaroo called?|A joey.
Animals|Which mammal is capable of true flight?|The bat.
Animals|How long is an elephant's pregnancy?|About 22 months, the longest of any land mammal.
Animals|What do pandas mostly eat?|Bamboo, up to 12 hours a day.
Animals|Which animal has the largest eyes of any creature?|The colossal squid, with eyes as big as dinner plates.
Animals|What is a group of lions called?|A pride.
Animals|Where are a cricket's ears?|On its front legs, just below the knees.
Animals|Can a snail sleep for years?|Some snails can stay dormant for long periods in dry conditions, occasionally up to a few years.
Animals|Which sea creature has no brain, heart or bones but has existed for millions of years?|The jellyfish.
Animals|What is the only bird known to fly backwards?|The hummingbird.
Animals|How do sloths spend most of their time?|Hanging upside down in trees, sleeping or resting up to 15 hours a day.
Animals|Which animal's fingerprints are almost impossible to tell apart from a human's?|The koala's.
Food|Which country is the origin of the dish paella?|Spain, specifically the Valencia region.
Food|What spice, by weight, is the most expensive in the world?|Saffron, harvested by hand from crocus flowers.
Food|What is the main ingredient in hummus?|Chickpeas.
Food|Which nut is used to make marzipan?|Almonds.
Food|What type of pastry is used to make profiteroles?|Choux pastry.
Food|What fruit is known as the "king of fruits" in Southeast Asia?|The durian, famous for its strong smell.
Food|What is the Japanese dish of raw fish served without rice called?|Sashimi.
Food|What grain is used to make traditional Scottish porridge?|Oats.
Food|Which country produces the most coffee?|Brazil.
Food|What are the three main ingredients of a classic pesto genovese besides olive oil?|Basil, pine nuts and hard cheese, with garlic and salt.
Food|What is the name of the Mexican sauce made with chili and chocolate?|Mole, and specifically mole poblano.
Food|What gives sourdough bread its tangy taste?|Lactic and acetic acids produced by bacteria in the starter.
Food|Which vegetable is the main ingredient of borscht?|Beetroot.
Food|Which cheese is traditionally used on a Margherita pizza?|Mozzarella.
Language|What is the most widely spoken language by number of native speakers?|Mandarin Chinese.
Language|How many letters are in the modern English alphabet?|26.
Language|What is a word that reads the same forwards and backwards called?|A palindrome.
Language|Which letter begins the fewest words in an English dictionary?|X, closely followed by Q and Z.
Language|What does the Latin phrase "carpe diem" mean?|Seize the day.
Language|Which language is spoken in Brazil?|Portuguese.
Language|What is the longest word in English without a true vowel?|"Rhythms" is the usual answer, though "y" acts as a vowel in it.
Language|What is the term for a word formed from the first letters of other words, like "NASA"?|An acronym.
Language|Which alphabet is used to write Russian?|The Cyrillic alphabet.
Language|What is the name for a word that sounds like what it describes, such as "buzz"?|Onomatopoeia.
Language|What does the prefix "bio-" mean?|Life, from the Greek word "bios."
Language|In which language does "danke" mean thank you?|German.
Sports|How many players are on the field for one team in a football (soccer) match?|Eleven, including the goalkeeper.
Sports|In which sport would you perform a "slam dunk"?|Basketball.
Sports|How long is a marathon?|42.195 kilometers, or about 26.2 miles.
Sports|Which country invented the sport of judo?|Japan.
Sports|How many rings are on the Olympic flag?|Five.
Sports|In tennis, what is a score of zero called?|Love.
Sports|What is the highest possible break in snooker, without free balls?|147.
Sports|Which sport is played at Wimbledon?|Tennis.
Sports|In which sport do you use a shuttlecock?|Badminton.
Sports|How many holes are played in a standard round of golf?|Eighteen.
Sports|Which city has hosted the Summer Olympics three times, most recently in 2012?|London.
Sports|In cricket, how many balls are bowled in a standard over?|Six.
Space|Which planet is known as the Red Planet?|Mars, because of iron oxide dust on its surface.
Space|What is the largest planet in our solar system?|Jupiter.
Space|How long does light from the Sun take to reach Earth?|About eight minutes and twenty seconds.
Space|Which planet has the most known moons?|Saturn, with well over a hundred confirmed.
Space|What is the name of the galaxy we live in?|The Milky Way.
Space|Which planet spins on its side?|Uranus, tilted about 98 degrees.
Space|What is the closest star to Earth after the Sun?|Proxima Centauri, about 4.2 light-years away.
Space|Who was the first human in space?|Yuri Gagarin, in April 1961.
Space|What is a light-year a measure of?|Distance: how far light travels in one year.
Space|Which is the hottest planet in the solar system?|Venus, because its thick atmosphere traps heat.
Space|What is the name of the boundary around a black hole beyond which nothing can escape?|The event horizon.
Space|How many days does it take the Moon to orbit Earth?|About 27.3 days, though a full cycle of phases takes about 29.5.
Arts|Who wrote the play "Romeo and Juliet"?|William Shakespeare.
Arts|Which painter cut off part of his own ear?|Vincent van Gogh.
Arts|How many keys does a standard piano have?|88.
Arts|Who composed "The Four Seasons"?|Antonio Vivaldi.
Arts|Which artist is famous for painting water lilies in his garden at Giverny?|Claude Monet.
Arts|In which city is the Louvre museum?|Paris.
Arts|What are the three primary colors in traditional painting?|Red, yellow and blue.
Arts|Which instrument has 47 strings and seven pedals in its concert form?|The harp.
Arts|Who wrote "Pride and Prejudice"?|Jane Austen, published in 1813.
Arts|Which dance originated in Buenos Aires and Montevideo in the late 19th century?|The tango.
Arts|What is a haiku's traditional syllable pattern?|Five, seven and five syllables over three lines.
Arts|Which composer continued to write music after becoming almost completely deaf?|Ludwig van Beethoven.
Nature|What is the tallest type of tree in the world?|The coast redwood, which can exceed 115 meters.
Nature|How do cacti mainly store water?|In their thick, fleshy stems.
Nature|What is the study of fungi called?|Mycology.
Nature|Which flower is associated with the Netherlands and once caused a financial frenzy?|The tulip.
Nature|What is the process by which water vapor turns into liquid?|Condensation.
Nature|How old can some bristlecone pine trees be?|Nearly 5,000 years.
Nature|What type of rock is formed from cooled lava?|Igneous rock, such as basalt.
Nature|What is the name for a scientist who studies earthquakes?|A seismologist.
Nature|Which is larger, a hailstone or a graupel pellet?|Usually a hailstone; graupel pellets are soft and only a few millimeters across.
Nature|What percentage of Earth's surface is covered by water?|About 71 percent.
Nature|What do you call a plant that lives for more than two years?|A perennial.
Nature|What causes the northern lights?|Charged particles from the Sun colliding with gases high in Earth's atmosphere.
Everyday|How many minutes are there in a day?|1,440.
Everyday|What does the "www" in a web address stand for?|World Wide Web.
Everyday|On a standard die, what do opposite faces always add up to?|Seven.
Everyday|What color are the black boxes on airplanes really?|Bright orange, so they are easier to find.
Everyday|How many sides does a stop sign have?|Eight; it is an octagon.
Everyday|What is the most common surname in the world?|Wang, shared by roughly 100 million people in China alone, though Li and Zhang are close.
Everyday|How many squares are there on a chessboard?|64.
Everyday|What is the standard number of strings on a guitar?|Six.
Everyday|Why are manhole covers usually round?|A round cover cannot fall through its own opening, and it is easy to roll.
Everyday|How many teaspoons make a tablespoon?|Three.
Everyday|What is the freezing point of water in Fahrenheit?|32 degrees.
Everyday|In a deck of standard playing cards, how many cards are there without jokers?|52.
'''

# ==========================================================================
# Building blocks for composed texts
# ==========================================================================

# --- shopping lists -------------------------------------------------------

SHOP_SECTIONS = {
    "Fruit & veg": [
        "2 lemons", "a bunch of coriander", "6 apples (the crisp ones)",
        "potatoes, 2 kg", "a big bag of spinach", "3 red onions", "garlic",
        "a thumb of ginger", "bananas, not too ripe", "cherry tomatoes",
        "1 cucumber", "carrots", "mushrooms for the risotto", "2 avocados",
        "a small pumpkin", "leeks x2", "broccoli", "red and yellow peppers",
        "limes", "grapes for the lunchboxes", "sweet potatoes", "fresh mint",
        "celery", "a pineapple if they're cheap", "spring onions",
        "strawberries", "salad leaves", "courgettes x3", "pears", "oranges",
        "a cauliflower", "fresh basil", "blueberries", "parsnips",
    ],
    "Dairy & eggs": [
        "milk (2 L, semi-skimmed)", "oat milk", "butter, unsalted",
        "Greek yogurt, big tub", "eggs, a dozen", "parmesan", "feta",
        "double cream for the soup", "mature cheddar", "mozzarella x2",
        "crème fraîche", "halloumi", "cottage cheese", "goat's cheese",
    ],
    "Bakery": [
        "sourdough loaf", "wholemeal bread", "bagels", "pitta bread",
        "burger buns", "croissants for Sunday", "tortilla wraps", "rye bread",
        "crumpets",
    ],
    "Cupboard": [
        "rice (basmati)", "penne", "spaghetti", "tinned tomatoes x3",
        "chickpeas x2", "olive oil", "coffee beans", "tea bags", "honey",
        "porridge oats", "plain flour", "brown sugar", "peanut butter",
        "soy sauce", "vegetable stock cubes", "red lentils", "crackers",
        "coconut milk", "tuna, 2 tins", "cumin", "baking powder",
        "dark chocolate (for baking, allegedly)", "raisins", "cornflakes",
        "black pepper refill", "tomato purée", "kidney beans",
        "jam (apricot)", "mustard", "paprika",
    ],
    "Meat & fish": [
        "chicken thighs", "beef mince, 500 g", "salmon fillets x2",
        "smoked bacon", "sausages for Sunday breakfast", "a whole chicken",
        "prawns (frozen)", "ham for sandwiches", "lamb chops x4",
        "white fish for the pie", "chorizo",
    ],
    "Frozen": [
        "frozen peas", "ice cream (vanilla AND chocolate)", "frozen berries",
        "fish fingers", "puff pastry", "frozen spinach", "oven chips",
    ],
    "Household": [
        "washing-up liquid", "toilet roll", "bin bags", "AA batteries",
        "light bulb for the hallway (screw-in!)", "dishwasher tablets",
        "cat food, the fish one, NOT chicken", "sponges", "toothpaste",
        "shampoo", "kitchen roll", "laundry detergent", "foil",
        "birthday card for Dad", "matches", "hand soap refill",
        "dog biscuits", "plasters", "freezer bags", "bird seed",
    ],
}

SHOP_HEADERS = [
    "Shopping list", "Groceries - Saturday", "Supermarket run", "Weekly shop",
    "Things to buy on the way home", "Market list", "Need from the shop:",
    "Big shop (before the guests arrive)", "Shopping for the week",
    "Groceries", "Corner shop, quick", "Shop list - Thursday",
    "To buy", "Food for the weekend",
]

SHOP_NOTES = [
    "Don't forget the bags!", "Check if we still have rice before buying more.",
    "Ask at the counter about the cake order for Friday.",
    "If there are no limes, lemons are fine.",
    "Whatever's on offer for dessert.", "Get the receipt - it's a shared shop.",
    "Budget: 60, try to stay under.", "Pick up the parcel from the post office too.",
    "The cheap coffee is terrible. Get the good one.",
    "Mum is coming Sunday - she doesn't eat mushrooms.",
    "Cash for the market stall, they don't take cards.",
    "Car park closes at 8.",
]

# --- packing lists ---------------------------------------------------------

PACK_TRIPS = [
    ("beach", ["Crete", "the Algarve", "Cornwall", "Mallorca", "Sardinia", "the coast at Biarritz"]),
    ("hiking", ["the Lake District", "the Dolomites", "the Pyrenees", "the Highlands", "the Tatra mountains"]),
    ("city", ["Barcelona", "Vienna", "Kyoto", "Lisbon", "Prague", "Copenhagen", "Montreal"]),
    ("camping", ["Pine Lake", "the forest campsite at Kielder", "Loch Lomond", "the river meadow at Wye"]),
    ("ski", ["Chamonix", "Val Thorens", "St. Anton", "the cabin at Åre"]),
    ("work", ["the Berlin conference", "the client visit in Rotterdam", "the Madrid office", "the trade fair in Milan"]),
    ("family", ["Grandma's", "Aunt Lou's farm", "the cousins' in Leeds", "Dad's for Christmas"]),
    ("wedding", ["Tom and Amira's wedding in Porto", "Jess's wedding in the Cotswolds", "the wedding in Seville"]),
]

PACK_BASICS = [
    "toothbrush and toothpaste", "phone charger", "passport", "wallet",
    "sunglasses", "reading book", "headphones", "medication", "glasses case",
    "hairbrush", "deodorant", "a small towel", "earplugs", "travel adapter",
    "notebook and pen", "reusable water bottle", "snacks for the journey",
    "tissues", "hand cream", "a spare bag for dirty laundry", "pyjamas",
    "keys (house, not the car)",
]

PACK_SPECIFIC = {
    "beach": ["swimsuit x2", "sun cream, factor 50", "flip-flops", "beach towel",
              "sun hat", "snorkel and mask", "after-sun", "light dress / linen shirt",
              "a paperback I won't mind getting sandy", "waterproof phone pouch"],
    "hiking": ["walking boots (broken in!)", "rain jacket", "blister plasters",
               "map and compass", "head torch", "wool socks x3", "fleece",
               "trekking poles", "water purifying tablets", "trail snacks",
               "first-aid kit", "sit mat"],
    "city": ["comfortable walking shoes", "one smart outfit for dinner",
             "small backpack", "umbrella", "museum tickets (printed)",
             "metro card", "a light jacket", "phrasebook", "portable battery"],
    "camping": ["tent (check the poles!)", "sleeping bag", "sleeping mat",
                "camping stove and gas", "lighter", "pans and sporks",
                "cool box", "lantern", "insect repellent", "mallet for pegs",
                "washing-up bowl", "playing cards", "marshmallows"],
    "ski": ["ski jacket and trousers", "thermal base layers", "ski socks x3",
            "goggles", "gloves and liner gloves", "neck warmer", "lip balm with SPF",
            "helmet", "lift pass", "après-ski boots", "hand warmers"],
    "work": ["laptop and charger", "two shirts, ironed", "business cards",
             "presentation on a USB stick as backup", "smart shoes",
             "clicker for the slides", "conference badge", "blazer"],
    "family": ["presents (wrapped)", "photo album for Grandma", "slippers",
               "board game", "the casserole dish we borrowed", "warm jumper",
               "chocolates for the neighbours", "the kids' favorite blankets"],
    "wedding": ["suit / dress in garment bag", "shoes that don't hurt",
                "the card and gift", "cufflinks", "a shawl for the evening",
                "speech notes", "plasters for the shoes", "steamer"],
}

PACK_CLOTHES = {
    "beach": lambda d: [f"{max(3, d // 2)} T-shirts", "2 pairs of shorts", "a cardigan for the evenings"],
    "hiking": lambda d: [f"{max(2, d // 2)} quick-dry tops", "walking trousers", "warm hat"],
    "city": lambda d: [f"{max(2, d // 2)} T-shirts", "jeans", "a jumper"],
    "camping": lambda d: [f"{max(2, d // 2)} T-shirts", "old jeans", "a thick jumper for the campfire"],
    "ski": lambda d: ["2 jumpers", "comfy trousers for the evenings"],
    "work": lambda d: [f"{d} shirts" if d < 5 else "5 shirts", "two pairs of trousers"],
    "family": lambda d: [f"{max(2, d // 2)} tops", "jeans", "something nice for dinner"],
    "wedding": lambda d: ["casual clothes for the day after", "jeans", "a warm layer"],
}

PACK_INTROS = [
    "Packing list: {place} ({days} days)", "{place} - what to pack",
    "Trip to {place}, {days} nights", "Packing for {place}",
    "{place}, leaving Friday", "Bag for {place}",
]

# --- to-do lists -----------------------------------------------------------

TODO_ITEMS = [
    "Call the dentist to move the appointment", "Return library books (due Thursday!)",
    "Pay the electricity bill", "Email {name} the photos from the weekend",
    "Fix the wobbly leg on the kitchen chair", "Buy a present for {name}'s birthday",
    "Book the car in for its service", "Renew the parking permit",
    "Water the plants at Mum's", "Finish the quarterly report",
    "Reply to the landlord about the boiler", "Cancel the gym trial before it renews",
    "Defrost the freezer", "Sort out the recycling", "Pick up dry cleaning",
    "Change the bed sheets", "Send the thank-you card to {name}",
    "Update CV", "Ring the council about the missed bin collection",
    "Book flights for the summer", "Clear out the garage (at least start)",
    "Take the old clothes to the charity shop", "Get a haircut",
    "Back up the laptop", "Order new contact lenses", "Oil the bike chain",
    "Make a vet appointment for the cat's jabs", "Clean the oven (ugh)",
    "Call {name} back", "Pay {name} back for the concert ticket",
    "Hang the picture in the hallway", "Fill in the census form",
    "Plan meals for next week", "Buy stamps", "Descale the kettle",
    "Look into cheaper home insurance", "Tidy the desk", "Sign the school trip form",
    "Post the parcel to {name}", "Put the winter tyres on", "Re-pot the basil",
    "Read chapter 4 for book club", "Check the smoke alarm batteries",
    "Write the speech for Saturday", "Cut the hedge before the neighbours complain",
    "Reply to {name}'s wedding invitation", "Go for a run (actually do it)",
    "Unsubscribe from all the shop newsletters", "Find the warranty for the washing machine",
    "Order prescription refill", "Call the bank about the new card",
]

TODO_HEADERS = [
    "To do - Tuesday", "This week", "Saturday jobs", "Before the move",
    "To do before the holidays", "Errands", "Monday to-do list",
    "Things to get done this weekend", "To do (for real this time)",
    "Admin day", "Jobs list", "Today",
]

NAMES = [
    "Ana", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hiro", "Ines",
    "Jonas", "Kemi", "Leo", "Maya", "Nikhil", "Olga", "Pablo", "Quinn",
    "Rosa", "Sami", "Tamsin", "Uma", "Viktor", "Wen", "Yusuf", "Zara",
    "Aunt Bea", "Granddad", "Marcus", "Noor", "Priya", "Sofia", "Tariq",
]

# --- meeting agendas --------------------------------------------------------

AGENDA_TYPES = {
    "Parent-Teacher Association": [
        "Summer fair: stalls, volunteers and the raffle", "Update from the head teacher",
        "Playground equipment fund", "School uniform swap shop",
        "Treasurer's report", "Ideas for the end-of-year disco",
        "Road safety outside the school gate", "Library book donations",
    ],
    "Residents' Association": [
        "Parking on Hawthorn Road", "Communal garden: planting plan for spring",
        "Bin store repairs", "Update from the housing office",
        "Street party in July", "Noise complaints procedure",
        "Treasurer's report", "New notice board by the entrance",
    ],
    "Product team weekly": [
        "Release status and blockers", "Customer feedback from last sprint",
        "Bug triage: top five issues", "Onboarding flow redesign",
        "Analytics: drop-off on the pricing page", "Hiring update",
        "Roadmap check for next quarter", "Retro action items",
    ],
    "Football club committee": [
        "Pitch booking for the new season", "Kit sponsorship",
        "Under-12s coach vacancy", "Clubhouse roof repair",
        "Subscriptions and fees", "End-of-season awards night",
        "Safeguarding training dates", "Minibus insurance",
    ],
    "Book club": [
        "Discussion: this month's novel", "Choose the next three books",
        "Host rota for the autumn", "Author event at the library",
        "Whether to allow audiobooks (again)", "Snack policy review",
    ],
    "Community garden": [
        "Watering rota for August", "Compost bins: who turns them?",
        "Seed swap event", "Grant application for a new shed",
        "Rules for the shared tools", "Harvest festival plans",
        "Pest problems in the brassica beds",
    ],
    "Choir committee": [
        "Winter concert programme", "Venue and ticket prices",
        "Recruiting tenors (still)", "Music librarian's report",
        "Rehearsal schedule in December", "Fundraising: cake sale or quiz night?",
    ],
}

AGENDA_PLACES = [
    "the library meeting room", "the school hall", "Room 3B", "the community centre",
    "the clubhouse", "online (link in the calendar invite)", "Jo's kitchen",
    "the back room of the Red Lion", "the church hall",
]

AGENDA_TIMES = ["6:30 p.m.", "7:00 p.m.", "7:30 p.m.", "10:00 a.m.", "2:00 p.m.", "8:00 p.m."]

QUIZ_FORMATS = ("round", "qa", "numbered", "flashcards")

HAIKU_TITLES = [
    "Haiku", "Notebook haiku", "Small poems", "Four seasons, roughly",
    "Haiku from a walking notebook", "Short poems", "Untitled haiku",
    "Three lines each", "Glimpses", "Haiku sequence",
]


# ==========================================================================
# Generators
# ==========================================================================


def fill_names(item: str, rng: random.Random) -> str:
    return item.replace("{name}", rng.choice(NAMES)) if "{name}" in item else item


def shopping_lists(rng: random.Random, n: int) -> list[str]:
    out = []
    headers = SHOP_HEADERS[:]
    rng.shuffle(headers)
    for i in range(n):
        header = headers[i % len(headers)]
        style = rng.choice(["sections", "dashes", "boxes", "plain"])
        sections = [s for s in SHOP_SECTIONS if rng.random() < 0.75] or list(SHOP_SECTIONS)
        chosen = {s: rng.sample(SHOP_SECTIONS[s], rng.randint(2, 5)) for s in sections}
        # top up short lists so every list is a realistic weekly shop
        while sum(len(x) + 3 for items in chosen.values() for x in items) < 200:
            s = rng.choice(list(chosen))
            spare = [x for x in SHOP_SECTIONS[s] if x not in chosen[s]]
            if spare:
                chosen[s].append(rng.choice(spare))
        lines = [header]
        if style == "sections":
            for s, items in chosen.items():
                lines.append(f"{s}: " + ", ".join(items))
        else:
            flat = [x for items in chosen.values() for x in items]
            marker = {"dashes": "- ", "boxes": "[ ] ", "plain": ""}[style]
            lines += [marker + x for x in flat]
        if rng.random() < 0.6:
            lines.append(rng.choice(SHOP_NOTES))
        out.append("\n".join(lines))
    return out


def packing_lists(rng: random.Random, n: int) -> list[str]:
    out = []
    trips = [(kind, place) for kind, places in PACK_TRIPS for place in places]
    rng.shuffle(trips)
    for kind, place in trips[:n]:
        days = rng.choice([2, 3, 4, 5, 7, 10])
        intro = rng.choice(PACK_INTROS).format(place=place, days=days)
        intro = intro[0].upper() + intro[1:]
        clothes = [f"{min(days, 7)} x underwear and socks"] + PACK_CLOTHES[kind](days)
        specific = rng.sample(PACK_SPECIFIC[kind], min(len(PACK_SPECIFIC[kind]), rng.randint(5, 7)))
        basics = rng.sample(PACK_BASICS, rng.randint(4, 7))
        if rng.random() < 0.5:
            lines = [intro, "Clothes: " + ", ".join(clothes), "Gear:"]
            lines += ["- " + x for x in specific]
            lines.append("Also: " + ", ".join(basics))
        else:
            items = clothes + specific + basics
            lines = [intro] + ["[ ] " + x for x in items]
        out.append("\n".join(lines))
    return out


def todo_lists(rng: random.Random, n: int) -> list[str]:
    out = []
    headers = TODO_HEADERS[:]
    rng.shuffle(headers)
    for i in range(n):
        items = rng.sample(TODO_ITEMS, rng.randint(7, 9))
        while sum(len(x) + 5 for x in items) < 220:
            items.append(rng.choice([x for x in TODO_ITEMS if x not in items]))
        items = [fill_names(x, rng) for x in items]
        lines = [headers[i % len(headers)]]
        numbered = rng.random() < 0.4
        for j, item in enumerate(items, 1):
            done = rng.random() < 0.3
            if numbered:
                lines.append(f"{j}. {item}" + (" - done" if done else ""))
            else:
                lines.append(("[x] " if done else "[ ] ") + item)
        out.append("\n".join(lines))
    return out


def agendas(rng: random.Random, n: int) -> list[str]:
    out = []
    kinds = list(AGENDA_TYPES)
    # meetings of the same kind never share a topic (hand out from a shuffled pool)
    pools = {k: rng.sample(v, len(v)) for k, v in AGENDA_TYPES.items()}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        repeats = (n - 1 - i) // len(kinds) + i // len(kinds)  # other meetings of this kind
        take = len(AGENDA_TYPES[kind]) // (repeats + 1)
        topics, pools[kind] = pools[kind][:min(take, 5)], pools[kind][take:]
        day = datetime.date(2025, rng.choice([3, 5, 6, 9, 10, 11]), rng.randint(1, 28))
        while day.weekday() > 4:  # meetings fall on weekdays
            day += datetime.timedelta(days=1)
        when = f"{day:%A} {day.day} {day:%B}"
        if kind == "Product team weekly":
            place, opening = "Room 3B / video call", ["Check-in", "Actions from last week"]
            time_ = rng.choice(["9:30 a.m.", "10:00 a.m.", "2:00 p.m."])
        else:
            place, opening = rng.choice(AGENDA_PLACES), ["Welcome and apologies",
                                                         "Minutes of the last meeting"]
            time_ = rng.choice(AGENDA_TIMES)
        lines = [
            f"Agenda - {kind}",
            f"{when}, {time_}, {place}",
            f"Chair: {rng.choice(NAMES)}",
            "",
            f"1. {opening[0]}",
            f"2. {opening[1]}",
        ]
        for k, t in enumerate(topics, 3):
            minutes = rng.choice([5, 10, 10, 15, 20])
            lines.append(f"{k}. {t} ({minutes} min)")
        lines.append(f"{len(topics) + 3}. Any other business")
        lines.append(f"{len(topics) + 4}. Date of next meeting")
        out.append("\n".join(lines))
    return out


def group_sizes(n: int, lo: int = 3, hi: int = 4) -> list[int]:
    """Split n items into groups of size lo..hi (largest groups first)."""
    groups = -(-n // hi)
    while groups * lo > n:
        groups -= 1
    base, extra = divmod(n, groups)
    return [base + 1] * extra + [base] * (groups - extra)


def quiz_rounds(rng: random.Random) -> list[str]:
    by_cat: dict[str, list[tuple[str, str]]] = {}
    for line in TRIVIA.strip().splitlines():
        cat, q, a = line.split("|")
        by_cat.setdefault(cat, []).append((q, a))
    out = []
    round_no = 0
    for cat, pairs in by_cat.items():
        pairs = pairs[:]
        rng.shuffle(pairs)
        start = 0
        for size in group_sizes(len(pairs)):
            group = pairs[start:start + size]
            start += size
            round_no += 1
            fmt = QUIZ_FORMATS[round_no % len(QUIZ_FORMATS)]
            if fmt == "round":
                lines = [f"Quiz night, round {rng.randint(1, 8)}: {cat}"]
                for k, (q, a) in enumerate(group, 1):
                    lines += [f"{k}. {q}", f"   Answer: {a}"]
            elif fmt == "qa":
                lines = []
                for q, a in group:
                    lines += [f"Q: {q}", f"A: {a}", ""]
                lines = lines[:-1]
            elif fmt == "numbered":
                lines = [f"{cat} trivia", ""]
                for k, (q, a) in enumerate(group, 1):
                    lines += [f"Question {k}: {q}", f"Answer: {a}"]
            else:
                lines = [f"Flashcards - {cat.lower()}"]
                for q, a in group:
                    lines += [f"Front: {q}", f"Back: {a}"]
            out.append("\n".join(lines))
    return out


def haiku_sequences(rng: random.Random) -> list[str]:
    poems = [h.strip() for h in HAIKU.strip().splitlines() if h.strip()]
    rng.shuffle(poems)
    titles = HAIKU_TITLES[:]
    out = []
    start = 0
    for i, size in enumerate(group_sizes(len(poems), 4, 4)):
        group = poems[start:start + size]
        start += size
        body = "\n\n".join("\n".join(part.strip() for part in h.split(" / ")) for h in group)
        title = titles[i % len(titles)]
        out.append(f"{title}\n\n{body}")
    return out


# ==========================================================================
# Assembly and checks
# ==========================================================================


def collect() -> dict[str, list[str]]:
    rng = random.Random(SEED)
    texts = {
        "dialogue": pieces(DIALOGUE_TEXTS),
        "story": pieces(STORY_TEXTS),
        "instructions": pieces(INSTRUCTIONS_TEXTS),
        "list": pieces(LIST_TEXTS),
        "code": pieces(CODE_TEXTS),
        "news": pieces(NEWS_TEXTS),
        "email": pieces(EMAIL_TEXTS),
        "essay": pieces(ESSAY_TEXTS),
        "poetry": pieces(POETRY_TEXTS),
        "qa": pieces(QA_TEXTS),
    }
    texts["list"] += shopping_lists(rng, 14)
    texts["list"] += packing_lists(rng, 16)
    texts["list"] += todo_lists(rng, 10)
    texts["list"] += agendas(rng, 12)
    texts["qa"] += quiz_rounds(rng)
    texts["poetry"] += haiku_sequences(rng)
    return texts


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def check(texts: dict[str, list[str]]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for genre, items in texts.items():
        if len(items) < 40:
            problems.append(f"{genre}: only {len(items)} texts (< 40)")
        for t in items:
            if not MIN_CHARS <= len(t) <= MAX_CHARS:
                problems.append(f"{genre}: {len(t)} chars: {t[:60]!r}")
            if t in seen:
                problems.append(f"{genre}: duplicate of a {seen[t]} text: {t[:60]!r}")
            seen[t] = genre
    flat = [(g, t, shingles(t)) for g, items in texts.items() for t in items]
    for (g1, t1, s1), (g2, t2, s2) in combinations(flat, 2):
        if s1 and s2:
            sim = len(s1 & s2) / len(s1 | s2)
            if sim > MAX_SIMILARITY:
                problems.append(f"near-duplicates ({sim:.2f}): {t1[:40]!r} / {t2[:40]!r}")
    return problems


def main() -> int:
    texts = collect()
    problems = check(texts)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*.jsonl"):
        if old.stem not in texts:
            old.unlink()
    for genre in GENRES:
        with (OUT_DIR / f"{genre}.jsonl").open("w", encoding="utf-8") as fh:
            for t in texts[genre]:
                fh.write(json.dumps({"text": t, "genre": genre}, ensure_ascii=False) + "\n")
    counts = Counter({g: len(v) for g, v in texts.items()})
    for genre in GENRES:
        print(f"{genre:13s} {counts[genre]:4d}")
    print(f"{'total':13s} {sum(counts.values()):4d}  -> {OUT_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
