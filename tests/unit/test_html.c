/* nm_html_parse: boilerplate removal, metadata, block kinds, bad input, and a
 * regression floor on the article-extraction benchmark (../shared). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nm_alloc.h"
#include "nm_doc.h"
#include "nm_html.h"
#include "nm_shingle_score.h"
#include "nm_test.h"
#include "nm_time.h"
#include "nm_utf8.h"

/* All block texts joined by "\n". Arena-owned. */
static char *joined(nm_arena *a, const nm_doc *doc)
{
    size_t n = 1;
    for (size_t i = 0; i < doc->n_blocks; i++)
        n += doc->blocks[i].len + 1;
    char *s = nm_arena_alloc(a, n), *p = s;
    for (size_t i = 0; i < doc->n_blocks; i++) {
        memcpy(p, doc->blocks[i].text, doc->blocks[i].len);
        p += doc->blocks[i].len;
        *p++ = '\n';
    }
    *p = '\0';
    return s;
}

static const nm_block *find_block(const nm_doc *doc, const char *needle)
{
    for (size_t i = 0; i < doc->n_blocks; i++)
        if (strstr(doc->blocks[i].text, needle))
            return &doc->blocks[i];
    return NULL;
}

#define PARA(x) "<p>" x " It was a long day, with many meetings, talks, and decisions to be made.</p>"

static const char k_news[] =
    "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
    "<title>Kal\xc4\xb1n meets Hamas leaders in Ankara - BBC News</title>"
    "<meta property=\"og:site_name\" content=\"BBC News\">"
    "<meta name=\"description\" content=\"Talks on Gaza.\">"
    "<meta property=\"article:published_time\" content=\"2023-10-20T09:30:00+02:00\">"
    "<meta property=\"article:modified_time\" content=\"2023-10-21T10:00:00Z\">"
    "<link rel=\"canonical\" href=\"https://example.org/news/1\">"
    "<script>var x = '<p>not text</p>';</script><style>p{color:red}</style></head><body>"
    "<header><nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/world\">World</a></li>"
    "<li><a href=\"/sport\">Sport</a></li></ul></nav></header>"
    "<div class=\"cookie-banner\"><p>We use cookies to improve your experience, "
    "by continuing, you agree.</p></div>"
    "<main><article><h1>Kal\xc4\xb1n meets Hamas leaders in Ankara</h1>"
    "<div class=\"byline\">By Jane Smith</div>"
    "<div class=\"share-tools\"><a href=\"#\">Share on Facebook</a> <a href=\"#\">Tweet</a></div>"
    "<div class=\"story-body\">"
    PARA("Ibrahim Kal\xc4\xb1n met Hamas officials in Ankara on Friday.")
    PARA("The National Intelligence Organization (MIT) said talks covered Gaza &amp; Egypt.")
    "<div class=\"ad-slot\"><p>Advertisement</p></div>"
    "<h2>Talks in Qatar</h2>"
    PARA("Officials later travelled to Qatar, where the talks continued.")
    "<ul><li>First point of the plan</li><li>Second point of the plan</li></ul>"
    "<ol><li>Step one</li><li>Step two</li></ol>"
    "<blockquote><p>We want peace, and we want it now, said an official.</p></blockquote>"
    PARA("Turkey\xe2\x80\x99s role &#8217;matters&#8217;, analysts said.")
    "<figure><img src=\"a.jpg\"><figcaption>A caption about the photo.</figcaption></figure>"
    "</div>"
    "<div class=\"related-articles\"><h3>Related</h3><ul><li><a href=\"/a\">Another story about things</a></li>"
    "<li><a href=\"/b\">Yet another story about stuff</a></li></ul></div>"
    "</article></main>"
    "<section id=\"comments\"><p>Great article, thanks, really, I loved it, a lot.</p></section>"
    "<aside><p>Most read: something else entirely, with commas, and more.</p></aside>"
    "<footer><p>Copyright 2023 BBC, all rights reserved, terms, privacy.</p></footer>"
    "</body></html>";

static void news_page(void **state)
{
    (void)state;
    nm_arena *a = nm_arena_new(0);
    nm_doc doc;
    nm_error err;
    assert_int_equal(nm_html_parse(a, k_news, sizeof k_news - 1, &doc, &err), 0);
    assert_string_equal(doc.title, "Kal\xc4\xb1n meets Hamas leaders in Ankara");
    assert_string_equal(doc.site_name, "BBC News");
    assert_string_equal(doc.description, "Talks on Gaza.");
    assert_string_equal(doc.language, "en-GB");
    assert_string_equal(doc.canonical_url, "https://example.org/news/1");
    assert_string_equal(doc.byline, "Jane Smith");
    assert_int_equal(doc.published_unix_ms, 1697787000000LL); /* 07:30 UTC */
    assert_int_equal(doc.modified_unix_ms, 1697882400000LL);
    char *text = joined(a, &doc);
    const char *kept[] = {"Ibrahim Kal\xc4\xb1n met Hamas", "Gaza & Egypt", "Talks in Qatar",
                          "travelled to Qatar", "First point", "Step two", "We want peace",
                          "Turkey\xe2\x80\x99s role \xe2\x80\x99matters\xe2\x80\x99"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (!strstr(text, kept[i]))
            fail_msg("missing '%s' in:\n%s", kept[i], text);
    const char *dropped[] = {"Home", "cookies", "Share on", "Tweet", "Advertisement", "caption",
                             "Another story", "Great article", "Most read", "Copyright",
                             "not text", "color:red", "By Jane"};
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        if (strstr(text, dropped[i]))
            fail_msg("boilerplate '%s' kept in:\n%s", dropped[i], text);
    const nm_block *h = find_block(&doc, "Talks in Qatar");
    assert_int_equal(h->kind, NM_BLOCK_HEADING);
    assert_int_equal(h->level, 2);
    const nm_block *l1 = find_block(&doc, "First point"), *l2 = find_block(&doc, "Second point");
    const nm_block *o1 = find_block(&doc, "Step one");
    assert_int_equal(l1->kind, NM_BLOCK_LIST_ITEM);
    assert_int_equal(l1->level, 1);
    assert_true(l1->list_id > 0 && l1->list_id == l2->list_id && o1->list_id != l1->list_id);
    assert_false(l1->ordered);
    assert_true(o1->ordered);
    assert_int_equal(find_block(&doc, "We want peace")->kind, NM_BLOCK_QUOTE);
    assert_int_equal(find_block(&doc, "Ibrahim")->kind, NM_BLOCK_PARAGRAPH);
    for (size_t i = 0; i < doc.n_blocks; i++) {
        const nm_block *b = &doc.blocks[i];
        assert_true(b->len > 0 && strlen(b->text) == b->len);
        assert_true(b->text[0] != ' ' && b->text[b->len - 1] != ' ' && !strstr(b->text, "  "));
    }
    nm_arena_destroy(&a);
}

/* The news page cut at every byte: each prefix parses (blocks, or "no
 * readable content"), and no block holds valid UTF-8 broken or a piece of
 * markup (a truncated tag, comment or reference is never text). */
static void news_page_truncated(void **state)
{
    (void)state;
    size_t len = sizeof k_news - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        char *html = malloc(cut ? cut : 1); /* exact size: ASan sees any read past the cut */
        memcpy(html, k_news, cut);
        nm_arena *a = nm_arena_new(0);
        nm_doc doc;
        nm_error err;
        int rc = nm_html_parse(a, html, cut, &doc, &err);
        if (rc != 0 && err.code != NM_ERR_EMPTY)
            fail_msg("cut at %zu: %s", cut, err.msg);
        for (size_t i = 0; rc == 0 && i < doc.n_blocks; i++) {
            const nm_block *b = &doc.blocks[i];
            if (!nm_utf8_valid(b->text, b->len, NULL))
                fail_msg("cut at %zu: block %zu is not UTF-8", cut, i);
            for (const char *lt = strchr(b->text, '<'); lt; lt = strchr(lt + 1, '<'))
                if (lt[1] == '/' || lt[1] == '!' || (lt[1] >= 'a' && lt[1] <= 'z'))
                    fail_msg("cut at %zu: markup in block %zu: %s", cut, i, b->text);
        }
        nm_arena_destroy(&a);
        free(html);
    }
}

/* Title sources and suffix cleaning. */
static void titles(void **state)
{
    (void)state;
    struct {
        const char *what, *head, *body, *title;
    } cases[] = {
        {"og:title wins", "<title>T - Site</title><meta property=\"og:title\" content=\"The OG title\">",
         "<h1>The H1</h1>", "The OG title"},
        {"h1 before title", "<title>The page title here | Site</title>", "<h1>The H1 headline</h1>",
         "The H1 headline"},
        {"title suffix with site", "<title>Storm hits the coast - BBC News</title>"
                                   "<meta property=\"og:site_name\" content=\"BBC News\">",
         "", "Storm hits the coast"},
        {"title pipe suffix", "<title>Markets fall sharply on Monday | The Daily Paper</title>", "",
         "Markets fall sharply on Monday"},
        {"two suffixes", "<title>Markets fall sharply again today - Business | Example</title>", "",
         "Markets fall sharply again today"},
        {"site prefix", "<title>Example: Markets fall sharply today</title>"
                        "<meta property=\"og:site_name\" content=\"Example\">",
         "", "Markets fall sharply today"},
        {"hyphenated words stay", "<title>Spider-Man returns</title>", "", "Spider-Man returns"},
        {"short title keeps its dash", "<title>Trump - Biden</title>", "", "Trump - Biden"},
        {"entities", "<title>Q&amp;A: Israel&#8217;s plan</title>", "", "Q&A: Israel\xe2\x80\x99s plan"},
        {"site name as a word of the title", "<title>The Guardian view on Hong Kong</title>"
                                             "<meta property=\"og:site_name\" content=\"The Guardian\">",
         "", "The Guardian view on Hong Kong"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char html[2048];
        snprintf(html, sizeof html,
                 "<html><head>%s</head><body>%s<p>Some body text that is long enough to count, "
                 "with commas, and so on.</p></body></html>",
                 cases[i].head, cases[i].body);
        nm_arena *a = nm_arena_new(0);
        nm_doc doc;
        nm_html_parse(a, html, strlen(html), &doc, NULL);
        if (!doc.title || strcmp(doc.title, cases[i].title) != 0)
            fail_msg("case '%s': title '%s', want '%s'", cases[i].what, doc.title ? doc.title : "(null)",
                     cases[i].title);
        nm_arena_destroy(&a);
    }
}

/* Bylines and dates from meta, JSON-LD, <time> and visible text. */
static void bylines_and_dates(void **state)
{
    (void)state;
    struct {
        const char *what, *html, *byline;
        int64_t published, modified;
    } cases[] = {
        {"meta author and dates",
         "<meta name=\"author\" content=\"Ann Lee\"><meta property=\"article:published_time\" "
         "content=\"2019-11-19T10:00:00Z\">",
         "Ann Lee", 1574157600000LL, 0},
        {"meta author URL ignored, rel=author used",
         "<meta property=\"article:author\" content=\"https://facebook.com/x\">"
         "<a rel=\"author\" href=\"/ann\">Ann Lee</a>",
         "Ann Lee", 0, 0},
        {"JSON-LD",
         "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\","
         "\"headline\":\"H\",\"datePublished\":\"2019-11-19T10:00:00-05:00\",\"dateModified\":\"2019-11-20\","
         "\"author\":[{\"@type\":\"Person\",\"name\":\"Ann Lee\"},{\"@type\":\"Person\",\"name\":\"Bo Kim\"}]}"
         "</script>",
         "Ann Lee, Bo Kim", 1574175600000LL, 1574208000000LL},
        {"JSON-LD @graph, author string",
         "<script type=\"application/ld+json\">{\"@graph\":[{\"@type\":\"WebSite\",\"name\":\"S\"},"
         "{\"@type\":[\"Article\"],\"author\":\"Ann Lee\",\"datePublished\":\"2020-01-02T03:04:05Z\"}]}</script>",
         "Ann Lee", 1577934245000LL, 0},
        {"broken JSON-LD is ignored", "<script type=\"application/ld+json\">{\"@type\":\"Article\",</script>",
         NULL, 0, 0},
        {"time datetime", "<time datetime=\"2021-03-04\">March 4</time>", NULL, 1614816000000LL, 0},
        {"visible date and byline", "<div class=\"byline\">By Ann Lee</div><span class=\"date\">"
                                    "Published November 19, 2019</span>",
         "Ann Lee", 1574121600000LL, 0},
        {"visible day-first date", "<p class=\"publish-date\">19 Nov 2019</p>", NULL, 1574121600000LL, 0},
        {"compact meta date", "<meta name=\"date\" content=\"20191119\">", NULL, 1574121600000LL, 0},
        {"written JSON-LD date", "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
                                 "\"datePublished\":\"19 Nov 2019 07:09 GMT\"}</script>",
         NULL, 1574121600000LL, 0},
        {"multi-valued itemprop", "<meta itemprop=\"datePublished dateCreated\" content=\"2019-11-19T11:00:09.000Z\">",
         NULL, 1574161209000LL, 0},
        {"byline with date and reading time", "<div class=\"byline\">By Bryan DeArdo Nov 18, 2019 at 9:24 pm "
                                              "ET \xe2\x80\xa2 2 min read</div>",
         "Bryan DeArdo", 0, 0},
        {"byline with Published", "<div class=\"author\">By Ann Lee Published 10:02 AM EST</div>", "Ann Lee", 0, 0},
        {"comment form author field ignored", "<form><label class=\"author\">Name (required)</label></form>", NULL,
         0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char html[4096];
        snprintf(html, sizeof html,
                 "<html><body>%s<article><p>Body text long enough to count as a paragraph, "
                 "with commas, and so on.</p></article></body></html>",
                 cases[i].html);
        nm_arena *a = nm_arena_new(0);
        nm_doc doc;
        nm_html_parse(a, html, strlen(html), &doc, NULL);
        bool by_ok = cases[i].byline ? doc.byline && strcmp(doc.byline, cases[i].byline) == 0 : !doc.byline;
        if (!by_ok || doc.published_unix_ms != cases[i].published || doc.modified_unix_ms != cases[i].modified)
            fail_msg("case '%s': byline '%s' published %lld modified %lld", cases[i].what,
                     doc.byline ? doc.byline : "(null)", (long long)doc.published_unix_ms,
                     (long long)doc.modified_unix_ms);
        nm_arena_destroy(&a);
    }
}

#define LONGP(x) "<p>" x " The rest of this paragraph is ordinary prose, with commas, clauses, and enough words.</p>"

/* Page shapes: what must be kept and what must go. */
static void page_shapes(void **state)
{
    (void)state;
    struct {
        const char *what, *html, *kept[3], *dropped[3];
    } cases[] = {
        {"embedded tweet in a social wrapper is content",
         "<article class=\"story\">" LONGP("First.") LONGP("Second.")
         "<div class=\"social-media-embed\"><blockquote class=\"twitter-tweet\"><p>Yes this is a quoted "
         "tweet about the campaign</p>&mdash; Someone (@someone) November 18, 2019</blockquote></div>"
         LONGP("Third.") "<div class=\"social-share\"><a href=\"#\">Facebook</a> <a href=\"#\">Twitter</a></div>"
         "</article>",
         {"quoted tweet", "Third.", NULL}, {"Facebook", NULL, NULL}},
        {"article cut into chunks by ads",
         "<div class=\"chunks\"><div class=\"grid\"><div class=\"body\">" LONGP("Chunk one a.") LONGP("Chunk one b.")
         LONGP("Chunk one c.") "</div><div class=\"ad\">Advertisement</div></div><div class=\"grid\"><div "
         "class=\"body\">" LONGP("Chunk two a.") LONGP("Chunk two b.") LONGP("Chunk two c.") "</div></div></div>",
         {"Chunk one a.", "Chunk two c.", NULL}, {"Advertisement", NULL, NULL}},
        {"theme wraps the article in a sidebar layout",
         "<div class=\"container penci_sidebar\"><div class=\"theiaStickySidebar\"><article>" LONGP("Alpha.")
         LONGP("Beta.") LONGP("Gamma.") LONGP("Delta.") "</article></div></div>"
         "<div class=\"sidebar\"><p>About us, our team, and contact details here.</p></div>",
         {"Alpha.", "Delta.", NULL}, {"About us", NULL, NULL}},
        {"text between <br>s in a div",
         "<div class=\"post-body\"><div class=\"sep\"></div>Chelsea have this morning paid the fee, which "
         "is a record, to the league.<br><br>This has freed the move of another keeper, the club said.<br><br>"
         "The player will undergo a medical, as usual, today.</div>",
         {"Chelsea have this morning", "freed the move", "undergo a medical"}, {NULL, NULL, NULL}},
        {"headline h1 is the title, not a block",
         "<article><h1>Big headline here</h1>" LONGP("Body one.") LONGP("Body two.") "</article>",
         {"Body one.", NULL, NULL}, {"Big headline", NULL, NULL}},
        {"hover card inside a sentence",
         "<article>" LONGP("One.") "<p>He threatened Rep. <a href=\"/p\">Ilhan Omar</a><span class=\"hovercard\">"
         "<a href=\"/x\">Other headline one</a> <a href=\"/y\">Other headline two</a></span> (D-Minn.), "
         "officials said in a statement on Tuesday.</p>" LONGP("Two.")
         "</article>",
         {"Ilhan Omar (D-Minn.)", NULL, NULL}, {"Other headline", NULL, NULL}},
        {"link lists go, a sentence with a link stays",
         "<article>" LONGP("One.") "<p>The suspect, <a href=\"/a\">Michael Webb, was convicted and sentenced</a> "
         "last week.</p><ul><li><a href=\"/1\">Another story entirely</a></li><li><a href=\"/2\">Yet another "
         "story</a></li></ul><p><a href=\"/more\">Read more stories from our newsroom</a></p>" LONGP("Two.")
         "</article>",
         {"The suspect, Michael Webb", NULL, NULL}, {"Another story", "Read more", NULL}},
        {"promotions after the story",
         "<article>" LONGP("One.") LONGP("Two, about the newsletter business.")
         "<p>Follow our Opinion section on Facebook and Twitter.</p><p>Get the latest updates right in your "
         "inbox. Subscribe to our newsletters.</p></article>",
         {"One.", "newsletter business", NULL}, {"Follow our", "Subscribe", NULL}},
        {"furniture lines", "<article><p>Last updated at 08:43 GMT</p>" LONGP("One.") "<p>Advertisement</p>"
                            "<p>Share this article</p>" LONGP("Two.") "</article>",
         {"One.", "Two.", NULL}, {"Advertisement", "Share this", "Last updated"}},
        {"wire credits", "<article>" LONGP("One.") LONGP("Two.") "<p>(Reporting by Ann Lee; Editing by Bo Kim)</p>"
                         "<p>Associated Press writers Ann Lee and Bo Kim contributed to this report.</p></article>",
         {"One.", "Two.", NULL}, {"Reporting by", "contributed", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_arena *a = nm_arena_new(0);
        nm_doc doc;
        nm_error err;
        char html[8192];
        snprintf(html, sizeof html, "<html><head><title>Big headline here</title></head><body>%s</body></html>",
                 cases[i].html);
        if (nm_html_parse(a, html, strlen(html), &doc, &err) != 0)
            fail_msg("case '%s': %s", cases[i].what, err.msg);
        const char *text = joined(a, &doc);
        for (int k = 0; k < 3; k++) {
            if (cases[i].kept[k] && !strstr(text, cases[i].kept[k]))
                fail_msg("case '%s': missing '%s' in:\n%s", cases[i].what, cases[i].kept[k], text);
            if (cases[i].dropped[k] && strstr(text, cases[i].dropped[k]))
                fail_msg("case '%s': kept '%s' in:\n%s", cases[i].what, cases[i].dropped[k], text);
        }
        nm_arena_destroy(&a);
    }
}

/* How the markup is read (nm_html_tree.c): raw-text elements, references,
 * implied end tags, stray end tags, case. Each kept string must come out
 * as written, each dropped one never. */
static void markup(void **state)
{
    (void)state;
    struct {
        const char *what, *html, *kept[3], *dropped[3];
    } cases[] = {
        {"script, style, comments and svg are not text",
         "<article>" LONGP("One.") "<script>var s = \"</article><div><p>script words, with commas, clauses, and "
         "enough words to count as prose.</p>\";</script>"
         "<style>p::after{content:\"style words\"}</style><!-- <p>comment words</p> -->"
         "<svg><text>svg words</text></svg>" LONGP("Two.") "</article>",
         {"One.", "Two.", NULL}, {"script words", "style words", "comment words"}},
        {"character references",
         "<article><p>Caf&eacute; &amp; bar: &lt;b&gt; is &quot;bold&quot;, it&#8217;s &#x2014; "
         "a&nbsp;dash &#150; and &apos;so&apos; on, &unknown; &amp stays, with commas, clauses.</p>"
         LONGP("Two.") "</article>",
         {"Caf\xc3\xa9 & bar: <b> is \"bold\", it\xe2\x80\x99s \xe2\x80\x94 a dash \xe2\x80\x93 and 'so' on",
          "&unknown; &amp stays", NULL},
         {"&eacute;", "&#8217;", NULL}},
        {"an unclosed <p> ends at the next <p> or <div>",
         "<article><p>First paragraph, never closed, with commas, clauses, and enough words to count."
         "<p>Second paragraph, never closed either, with commas, clauses, and words."
         "<div>Third, in a div, with commas, clauses, and enough words to count as prose.</div></article>",
         {"to count.\nSecond paragraph", "and words.\nThird, in a div", NULL}, {NULL, NULL, NULL}},
        {"stray and misplaced end tags are ignored",
         "<article>" LONGP("One.") "</span></section></td><table><tr><td><div>" LONGP("In a cell.")
         "</div></div></td></tr></table>" LONGP("Two.") "</article>",
         {"One.", "In a cell.", "Two."}, {NULL, NULL, NULL}},
        {"upper-case tags and unquoted attributes",
         "<ARTICLE CLASS=story><P>Upper case markup, with commas, clauses, and enough words to count.</P>"
         "<DIV CLASS=share-tools><A HREF=#>Share on Facebook</A></DIV>" LONGP("Two.") "</ARTICLE>",
         {"Upper case markup", "Two.", NULL}, {"Share on", NULL, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_arena *a = nm_arena_new(0);
        nm_doc doc;
        nm_error err;
        char html[8192];
        snprintf(html, sizeof html, "<html><head><title>T</title></head><body>%s</body></html>", cases[i].html);
        if (nm_html_parse(a, html, strlen(html), &doc, &err) != 0)
            fail_msg("case '%s': %s", cases[i].what, err.msg);
        const char *text = joined(a, &doc);
        for (int k = 0; k < 3; k++) {
            if (cases[i].kept[k] && !strstr(text, cases[i].kept[k]))
                fail_msg("case '%s': missing '%s' in:\n%s", cases[i].what, cases[i].kept[k], text);
            if (cases[i].dropped[k] && strstr(text, cases[i].dropped[k]))
                fail_msg("case '%s': kept '%s' in:\n%s", cases[i].what, cases[i].dropped[k], text);
        }
        nm_arena_destroy(&a);
    }
}

/* A page of links and headlines only (an index page) has no article. */
static void index_page(void **state)
{
    (void)state;
    const char *html = "<html><body><nav><a href=\"/\">Home</a></nav><div class=\"index\"><h2><a href=\"/1\">"
                       "Could viruses be the new weapon against disease?</a></h2><ul><li><a href=\"/2\">Markets "
                       "fall</a></li><li><a href=\"/3\">Storm hits coast</a></li></ul></div></body></html>";
    nm_arena *a = nm_arena_new(0);
    nm_doc doc;
    nm_error err;
    assert_int_equal(nm_html_parse(a, html, strlen(html), &doc, &err), -1);
    assert_int_equal(err.code, NM_ERR_EMPTY);
    assert_int_equal(doc.n_blocks, 0);
    nm_arena_destroy(&a);
}

/* A script-rendered page: the text is only in JSON-LD articleBody. */
static void jsonld_body(void **state)
{
    (void)state;
    const char *html = "<html><head><script type=\"application/ld+json\">{\"@type\":\"NewsArticle\","
                       "\"headline\":\"Talks in Ankara\",\"articleBody\":\"First paragraph of the story, "
                       "with detail.\\n\\nSecond paragraph, which goes on.\\nThird one.\"}</script></head>"
                       "<body><div id=\"app\"><noscript>Enable JavaScript</noscript></div></body></html>";
    nm_arena *a = nm_arena_new(0);
    nm_doc doc;
    assert_int_equal(nm_html_parse(a, html, strlen(html), &doc, NULL), 0);
    assert_string_equal(doc.title, "Talks in Ankara");
    assert_int_equal(doc.n_blocks, 3);
    assert_string_equal(doc.blocks[0].text, "First paragraph of the story, with detail.");
    assert_string_equal(doc.blocks[2].text, "Third one.");
    nm_arena_destroy(&a);
}

/* Bad input: an error or a sensible result, never a crash, bounded time. */
static void bad_input(void **state)
{
    (void)state;
    size_t bomb_n = 100000;
    char *bomb = nm_xmalloc(bomb_n * 5 + 64);
    size_t bl = 0;
    for (size_t i = 0; i < bomb_n; i++)
        memcpy(bomb + bl, "<div>", 5), bl += 5;
    memcpy(bomb + bl, "deep text", 9), bl += 9;
    char *bomb_b = nm_xmalloc(bomb_n * 3 + 64);
    size_t bbl = 0;
    for (size_t i = 0; i < bomb_n; i++)
        memcpy(bomb_b + bbl, "<b>", 3), bbl += 3;
    memcpy(bomb_b + bbl, "bold text", 9), bbl += 9;
    /* One tag with 50,000 attributes: the parser's duplicate check is
     * quadratic (45 s before the attribute guard). */
    size_t attrs_n = 50000;
    char *attrs = nm_xmalloc(attrs_n * 12 + 64);
    size_t al = (size_t)sprintf(attrs, "<div");
    for (size_t i = 0; i < attrs_n; i++)
        al += (size_t)sprintf(attrs + al, " a%zu=1", i);
    al += (size_t)sprintf(attrs + al, "><p>attribute text</p></div>");
    /* Shapes gumbo needed over a minute for (parsed in linear time since). */
    size_t rep_n = 30000;
    char *selfclose = nm_xmalloc(rep_n * 7 + 64), *lidd = nm_xmalloc(rep_n * 8 + 64);
    size_t sl = 0, ll = 0;
    for (size_t i = 0; i < rep_n; i++) {
        memcpy(selfclose + sl, "<div/>x", 7), sl += 7;
        memcpy(lidd + ll, "<li><dd>", 8), ll += 8;
    }
    memcpy(selfclose + sl, "self text", 9), sl += 9;
    memcpy(lidd + ll, "list text", 9), ll += 9;
    char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    struct {
        const char *what, *bytes;
        size_t len;
        int rc;           /* 0 or -1 */
        const char *text; /* expected in the blocks when rc == 0 */
    } cases[] = {
        {"empty", "", 0, -1, NULL},
        {"whitespace", "  \n\t ", 5, -1, NULL},
        {"only tags", "<html><head></head><body></body></html>", 39, -1, NULL},
        {"binary junk", junk, sizeof junk, 99, NULL},
        {"NUL bytes", "<p>one\0two three</p>", 20, 0, "one two three"},
        {"invalid UTF-8", "<p>caf\xe9 au lait</p>", 18, 0, "caf\xef\xbf\xbd au lait"},
        {"truncated", "<html><body><p>Cut off in the mid", 34, 0, "Cut off in the mid"},
        {"truncated tag", "<p>Text before</p><div class=\"x", 31, 0, "Text before"},
        {"plain text", "Just a line of text.\n\nAnd another one.", 38, 0, "Just a line of text."},
        {"100k nested divs", bomb, bl, 0, "deep text"},
        {"100k nested b", bomb_b, bbl, 0, "bold text"},
        {"50k attributes", attrs, al, 0, "attribute text"},
        {"30k self-closing divs", selfclose, sl, 0, "self text"},
        {"30k li dd", lidd, ll, 99, NULL},
        {"windows-1252", "<meta charset=\"windows-1252\"><p>Caf\xe9 \x93quoted\x94 \x80 5</p>", 49, 0,
         "Caf\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac 5"},
        {"windows-1252 undefined byte", "<meta charset=windows-1252><p>A\x81 B\xe9</p>", 39, 0,
         "A\xef\xbf\xbd B\xc3\xa9"},
        {"windows-1251", "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"
                         "<p>\xcf\xf0\xe8\xe2\xe5\xf2 \xec\xe8\xf0</p>",
         91, 0, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80"},
        {"UTF-16LE with BOM", "\xff\xfe<\0p\0>\0H\0i\0 \0\xfc\0<\0/\0p\0>\0", 24, 0, "Hi \xc3\xbc"},
        {"UTF-8 BOM", "\xef\xbb\xbf<p>Hello there</p>", 21, 0, "Hello there"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nm_arena *a = nm_arena_new(0);
        nm_doc doc;
        nm_error err;
        int64_t t0 = nm_time_mono_ns();
        int rc = nm_html_parse(a, cases[i].bytes, cases[i].len, &doc, &err);
        int64_t ms = (nm_time_mono_ns() - t0) / 1000000;
        if (ms > 3000)
            fail_msg("case '%s': %lld ms", cases[i].what, (long long)ms);
        if (cases[i].rc != 99 && rc != cases[i].rc)
            fail_msg("case '%s': rc %d (%s)", cases[i].what, rc, err.msg);
        if (rc != 0 && err.code != NM_ERR_EMPTY)
            fail_msg("case '%s': error code %d", cases[i].what, err.code);
        if (rc == 0 && cases[i].text && !strstr(joined(a, &doc), cases[i].text))
            fail_msg("case '%s': '%s' not in '%s'", cases[i].what, cases[i].text, joined(a, &doc));
        nm_arena_destroy(&a);
    }
    free(bomb);
    free(bomb_b);
    free(attrs);
    free(selfclose);
    free(lidd);
}

/* Every page of the benchmark: the overall F1 must not fall below a floor. */
static void benchmark_floor(void **state)
{
    (void)state;
    const char *shared = nm_test_shared_dir();
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/eval/html", shared ? shared : "/nonexistent");
    DIR *d = opendir(dir);
    if (!d)
        nm_test_skip("the HTML benchmark pages are in ../shared/eval/html");
    nm_score_total total = {0};
    struct dirent *de;
    nm_arena *a = nm_arena_new(0);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t glen, hlen;
        char *gold_json = nm_test_read_file(path, &glen);
        snprintf(path + strlen(path) - 5, 6, ".html");
        char *html = nm_test_read_file(path, &hlen);
        assert_non_null(gold_json);
        assert_non_null(html);
        json_object *root = json_tokener_parse(gold_json), *jb = NULL;
        assert_true(root && json_object_object_get_ex(root, "articleBody", &jb));
        const char *body = json_object_get_string(jb);
        nm_doc doc;
        size_t plen = 0;
        char *pred = "";
        if (nm_html_parse(a, html, hlen, &doc, NULL) == 0) {
            pred = joined(a, &doc);
            plen = strlen(pred);
        }
        nm_score_page p;
        nm_shingle_score_page(body, strlen(body), pred, plen, &p);
        nm_shingle_score_add(&total, &p);
        json_object_put(root);
        free(gold_json);
        free(html);
        nm_arena_reset(a);
    }
    closedir(d);
    nm_arena_destroy(&a);
    double prec, rec, f1;
    nm_shingle_score_result(&total, &prec, &rec, &f1, NULL);
    printf("benchmark: f1=%.4f precision=%.4f recall=%.4f pages=%zu\n", f1, prec, rec, total.pages);
    assert_true(total.pages >= 80);
    assert_true(f1 >= 0.975);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(news_page),
        cmocka_unit_test(news_page_truncated),
        cmocka_unit_test(titles),
        cmocka_unit_test(bylines_and_dates),
        cmocka_unit_test(page_shapes),
        cmocka_unit_test(markup),
        cmocka_unit_test(index_page),
        cmocka_unit_test(jsonld_body),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(benchmark_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
