import { useEffect, useState } from 'preact/hooks';
import type { SearchHit } from '../engine/types.ts';
import { paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { FormAlert } from './FormAlert.tsx';
import { errorMessage, formatFull } from './format.ts';
import { PageHeader } from './PageHeader.tsx';

/** Results of searching one's own decrypted history, an index kept in this browser: the server cannot search. */
export function SearchScreen(props: { query: string }) {
  const engine = useEngine();
  const [hits, setHits] = useState<readonly SearchHit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titles = new Map(engine.conversations.value.map((c) => [c.id, c.title]));
  useEffect(() => {
    let current = true;
    setHits(null);
    setError(null);
    engine.search(props.query).then(
      (found) => current && setHits(found),
      (caught) => current && setError(errorMessage(caught)),
    );
    return () => {
      current = false;
    };
  }, [engine, props.query]);
  return (
    <section class="page" data-testid="search-results">
      <PageHeader title={`Search: “${props.query}”`} back={paths.home} />
      <div class="page__body">
        <p class="page__intro">Searched in this browser, over your decrypted history. Nothing leaves your device.</p>
        <FormAlert error={error} />
        <p role="status">
          {hits === null ? 'Searching…' : `${hits.length} ${hits.length === 1 ? 'result' : 'results'}`}
        </p>
        {hits && hits.length > 0 && (
          <ul class="search-hits">
            {hits.map((hit) => (
              <li key={`${hit.conversationId}:${hit.contentId}`}>
                <a class="search-hit" href={paths.chat(hit.conversationId)} data-testid="search-hit">
                  <span class="search-hit__top">
                    <span class="search-hit__where">
                      {hit.senderName} in {titles.get(hit.conversationId) ?? 'a conversation'}
                    </span>
                    <time dateTime={hit.at}>{formatFull(hit.at)}</time>
                  </span>
                  <span class="search-hit__snippet">{hit.snippet}</span>
                </a>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
